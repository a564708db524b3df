/** The torture run in one table, printed after the checks (and pasted into the note). */
import type { BadInputResult } from './bad-inputs.js';
import type { CommandLedger } from './command-ledger.js';
import type { LoggedEvent } from './log-checks.js';
import type { RunawayRound } from './runaway-prober.js';

export interface SummaryInput {
  ledger: CommandLedger;
  crashes: number;
  log: LoggedEvent[];
  badInputs: BadInputResult[];
  runaway: RunawayRound[];
  redis: Map<string, string[]>;
  jetStream: string[];
  subscriber: { received: number; replayed: number; connections: number };
  durationMs: number;
}

export function printSummary(run: SummaryInput, mode: { seed: number; long: boolean }): void {
  const { ledger } = run;
  const count = (outcome: string) => ledger.commands.filter((c) => c.outcome === outcome).length;
  const attempts = ledger.commands.reduce((sum, c) => sum + c.attempts, 0) + ledger.resends.length;
  const redisEntries = [...run.redis.values()].reduce((sum, ids) => sum + ids.length, 0);
  const rows: [string, string | number][] = [
    ['mode', `${mode.long ? 'long (THALO_TORTURE_LONG=1)' : 'CI'}, seed ${mode.seed}`],
    ['duration', `${(run.durationMs / 1000).toFixed(1)} s`],
    ['commands sent', ledger.commands.length + ledger.resends.length],
    ['  HTTP attempts (with retries)', attempts],
    ['  acknowledged', count('acknowledged')],
    ['  rejected (422)', count('rejected')],
    ['  conflicts (409)', count('conflict')],
    ['  timed out (504, runaway)', count('timeout')],
    ['  retried after a lost answer', ledger.commands.filter((c) => c.attempts > 1).length],
    ['  answers lost to SIGKILL', ledger.lostAnswers],
    ['  resent on purpose (same id)', ledger.resends.length],
    ['crashes survived (SIGKILL)', run.crashes],
    ['events checked (global log)', run.log.length],
    ['  Redis entries (at least once)', redisEntries],
    ['  JetStream messages (exactly once)', run.jetStream.length],
    [
      '  subscriber events (replayed)',
      `${run.subscriber.received} (${run.subscriber.replayed}) over ${run.subscriber.connections} connections`,
    ],
    [
      'bad inputs tried',
      `${run.badInputs.length} (${new Set(run.badInputs.map((r) => r.name)).size} kinds), ${run.badInputs.filter((r) => !r.ok).length} answered wrong`,
    ],
    ['runaway Loop commands', run.runaway.length],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `| ${label.padEnd(width)} | ${String(value)}`);
  process.stdout.write(`\nthalo torture summary\n${lines.join('\n')}\n\n`);
}
