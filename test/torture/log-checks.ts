/**
 * The promises, as pure functions over what the test saw: the global log as the runtime serves it
 * and the ledger of what the clients were told. Each returns the violations it found, as
 * sentences, so a failing assertion says which event or command broke which promise.
 */
import { applyBalances } from '../../examples/bank-balances.js';
import type { Balances } from '../../examples/bank-balances.js';
import type { ExecutedEvent } from '../../src/index.js';
import type { SentCommand } from './command-ledger.js';

export interface LoggedEvent {
  position: number;
  stream: string;
  seq: number;
  id: string;
  type: string;
  data: Record<string, unknown>;
  timestamp: number;
  metadata: { commandId?: string; [field: string]: unknown };
}

const BANK = 'bank_account-';
const MAX_LISTED = 20;

function listed(problems: string[]): string[] {
  return problems.length > MAX_LISTED ? [...problems.slice(0, MAX_LISTED), `... and ${problems.length - MAX_LISTED} more`] : problems;
}

/** Positions 1, 2, 3, ... in order. */
export function globalGaps(log: LoggedEvent[]): string[] {
  const problems: string[] = [];
  log.forEach((event, i) => {
    if (event.position !== i + 1) problems.push(`the event at index ${i} has position ${event.position}, expected ${i + 1}`);
  });
  return listed(problems);
}

/** Every stream's seqs 1, 2, 3, ... in log order. */
export function streamGaps(log: LoggedEvent[]): string[] {
  const problems: string[] = [];
  const heads = new Map<string, number>();
  for (const event of log) {
    const expected = (heads.get(event.stream) ?? 0) + 1;
    if (event.seq !== expected) problems.push(`${event.stream}: position ${event.position} has seq ${event.seq}, expected ${expected}`);
    heads.set(event.stream, event.seq);
  }
  return listed(problems);
}

/**
 * Every acknowledged command's events are in the log exactly once, as acknowledged (same ids, same
 * positions); every event belongs to an acknowledged command; a command not acknowledged wrote
 * nothing.
 */
export function commandProblems(log: LoggedEvent[], commands: SentCommand[]): string[] {
  const problems: string[] = [];
  const byCommand = new Map<string, LoggedEvent[]>();
  const seenIds = new Set<string>();
  for (const event of log) {
    if (seenIds.has(event.id)) problems.push(`event ${event.id} is in the log twice (position ${event.position})`);
    seenIds.add(event.id);
    const commandId = event.metadata?.commandId;
    if (commandId === undefined) {
      problems.push(`position ${event.position} (${event.stream} ${event.type}) carries no command id, but every command sent had one`);
      continue;
    }
    byCommand.set(commandId, [...(byCommand.get(commandId) ?? []), event]);
  }
  const known = new Map(commands.map((c) => [c.commandId, c]));
  for (const command of commands) {
    const written = byCommand.get(command.commandId) ?? [];
    const describe = `${command.aggregate} ${JSON.stringify(command.id)} ${command.command} (command id ${command.commandId}, ${command.attempts} attempts)`;
    if (command.outcome === 'acknowledged') {
      const told = command.events.map((e) => `${e.id}@${e.position}`).join(', ');
      const stored = written.map((e) => `${e.id}@${e.position}`).join(', ');
      if (told !== stored) problems.push(`${describe} was acknowledged with [${told}], the log holds [${stored}]`);
    } else if (written.length > 0) {
      problems.push(
        `${describe} ended ${command.outcome} ${command.code ?? ''}, yet the log holds ${written.length} of its events (positions ${written.map((e) => e.position).join(', ')})`,
      );
    }
  }
  for (const [commandId, events] of byCommand) {
    if (!known.has(commandId)) problems.push(`command id ${commandId} was never sent, yet the log holds ${events.length} of its events`);
  }
  return listed(problems);
}

/** The commands sent more than once (answers lost to a SIGKILL) hold their events once. */
export function retriedProblems(log: LoggedEvent[], commands: SentCommand[]): { retried: number; problems: string[] } {
  const counts = new Map<string, number>();
  for (const event of log)
    if (event.metadata?.commandId) counts.set(event.metadata.commandId, (counts.get(event.metadata.commandId) ?? 0) + 1);
  const problems: string[] = [];
  const retried = commands.filter((c) => c.attempts > 1);
  for (const command of retried) {
    const count = counts.get(command.commandId) ?? 0;
    const expected = command.outcome === 'acknowledged' ? command.events.length : 0;
    if (count !== expected)
      problems.push(
        `command id ${command.commandId} (${command.command}, ${command.attempts} attempts, ${command.outcome}) has ${count} events in the log, expected ${expected}`,
      );
  }
  return { retried: retried.length, problems: listed(problems) };
}

/** The bank_account events of the log as the example projection takes them. */
export function bankEvents(log: LoggedEvent[]): ExecutedEvent[] {
  return log.filter((e) => e.stream.startsWith(BANK)) as unknown as ExecutedEvent[];
}

/** The balances rebuilt from the whole log, with `applyBalances` (the example's pure function). */
export function rebuildBalances(log: LoggedEvent[]): Balances {
  return applyBalances({ position: 0, balances: {} }, bankEvents(log));
}

/** Every account whose balance went below 0 at some position of the log. */
export function negativeBalances(log: LoggedEvent[]): string[] {
  const running = new Map<string, number>();
  const problems: string[] = [];
  for (const event of bankEvents(log)) {
    const model = applyBalances({ position: 0, balances: { [event.stream.slice(BANK.length)]: running.get(event.stream) ?? 0 } }, [event]);
    const balance = model.balances[event.stream.slice(BANK.length)]!;
    running.set(event.stream, balance);
    if (balance < 0) problems.push(`${event.stream} is at ${balance} after position ${event.position}`);
  }
  return listed(problems);
}

/**
 * What happened to each account a surprise names, for the failure message: every command sent to
 * it in the order they were created (intent, expected version, attempts, outcome, version, the
 * conflict's data, when it went out and was answered) and the account's events in the log with
 * the command id each came from. A surprise is a race in a run that cannot be replayed exactly
 * (the kills' timing is not seeded), so this is what there is to go on.
 */
export function surpriseHistories(surprises: string[], log: LoggedEvent[], commands: SentCommand[]): string[] {
  const accounts = new Set<string>();
  for (const surprise of surprises) {
    const named = /account ("(?:[^"\\]|\\.)*")/.exec(surprise);
    if (named) accounts.add(JSON.parse(named[1]!) as string);
  }
  const start = Math.min(...commands.map((c) => c.sentAt));
  const at = (ms: number | undefined) => (ms === undefined ? '-' : `+${ms - start}ms`);
  return [...accounts].flatMap((account) => [
    `account ${JSON.stringify(account)}, commands:`,
    ...commands
      .filter((c) => c.aggregate === 'bank_account' && c.id === account)
      .map(
        (c) =>
          `  ${c.commandId} ${c.command} ${JSON.stringify(c.payload)} ${c.intent} expected ${c.expectedVersion ?? '-'}: ${c.attempts} attempt(s), ${c.outcome}${c.duplicate ? ' (duplicate)' : ''} version ${c.version ?? '-'} ${c.code ?? ''} ${JSON.stringify(c.data ?? {})} sent ${at(c.sentAt)} last ${at(c.lastAttemptAt)} answered ${at(c.answeredAt)}`,
      ),
    `account ${JSON.stringify(account)}, its events in the log:`,
    ...log
      .filter((e) => e.stream === `${BANK}${account}`)
      .map(
        (e) =>
          `  seq ${e.seq} position ${e.position} ${e.type} ${JSON.stringify(e.data)} command ${e.metadata.commandId ?? '-'} at ${at(e.timestamp)}`,
      ),
  ]);
}
