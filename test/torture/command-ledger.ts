/**
 * What the torture test's clients sent and what they were told: every command with its command id,
 * each HTTP attempt, and the answer that settled it. A command whose answer was lost with a
 * SIGKILLed process (or a 5xx that leaves the outcome open) is sent again with the same command id
 * to the next generation until an answer settles it, the way a careful client would; the runtime
 * answers a known id with the original events, so that answer is authoritative.
 */
import { randomUUID } from 'node:crypto';
import { request } from '../server/runtime-process.js';

/**
 * Where the ledger sends: the serving runtime (`RuntimeUnderTest`, one data directory), or any
 * live node of a cluster (test/cluster/cluster-under-test.ts).
 */
export interface CommandTarget {
  /** The runtime to send to now. */
  serving(): Promise<{ url: string }>;
  /** The runtime to send to after an attempt failed at the connection. */
  retryTarget(): Promise<{ url: string }>;
}

/** How a command ended, as its client saw it. */
export type Outcome = 'pending' | 'acknowledged' | 'rejected' | 'conflict' | 'timeout' | 'refused';

export interface EventRef {
  id: string;
  position: number;
  stream: string;
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

export interface SentCommand {
  commandId: string;
  aggregate: string;
  id: string;
  command: string;
  payload: Record<string, unknown>;
  expectedVersion?: number;
  /** Why the client sent it; the checks use it to know what answer to expect. */
  intent: string;
  /** HTTP attempts (more than one: the first answers were lost or left the outcome open). */
  attempts: number;
  outcome: Outcome;
  /** The error code; for a rejection, the aggregate's own code (`INSUFFICIENT_FUNDS`). */
  code?: string;
  /** The error's `data` (a rejection's `data.data`, a conflict's `{ stream, expected, actual }`). */
  data?: Record<string, unknown>;
  events: EventRef[];
  /** The stream's version after the command, from a 200. */
  version?: number;
  duplicate?: boolean;
  sentAt: number;
  /** When the last attempt went out, and when the answer that settled it came. */
  lastAttemptAt?: number;
  answeredAt?: number;
}

/** A 5xx other than the runaway's 504: the outcome stays open, and it is retried. */
export interface Fault {
  commandId: string;
  aggregate: string;
  status: number;
  code: string;
  message: string;
}

const REQUEST_TIMEOUT_MS = 30_000;
const MAX_TRIES = 100;

export class CommandLedger {
  readonly commands: SentCommand[] = [];
  readonly faults: Fault[] = [];
  /** Answers that contradict what the sending client knew (its model of its own accounts). */
  readonly surprises: string[] = [];
  /** Deliberate resends of an acknowledged command id: the answer must be the original. */
  readonly resends: { original: SentCommand; duplicate: boolean; sameEvents: boolean; status: number }[] = [];
  /** Attempts lost at the connection (the process was killed under them). */
  lostAnswers = 0;

  /** First attempts answered as duplicates: allowed only where the runtime itself may send a command again. */
  internalRetries = 0;

  /**
   * With `runtimeRetries`, the runtime may itself send a command again (a cluster node whose
   * forward to the owner lost its answer runs the command with its id, and the store answers the
   * owner's commit as a duplicate), so a first attempt answered as a duplicate is counted, not a
   * surprise.
   */
  constructor(
    private readonly runtime: CommandTarget,
    private readonly options: { runtimeRetries?: boolean } = {},
  ) {}

  /** A new command, not sent yet. */
  create(
    aggregate: string,
    id: string,
    command: string,
    payload: Record<string, unknown>,
    intent: string,
    expectedVersion?: number,
  ): SentCommand {
    const sent: SentCommand = {
      commandId: randomUUID(),
      aggregate,
      id,
      command,
      payload,
      intent,
      attempts: 0,
      outcome: 'pending',
      events: [],
      sentAt: Date.now(),
    };
    if (expectedVersion !== undefined) sent.expectedVersion = expectedVersion;
    this.commands.push(sent);
    return sent;
  }

  /** Send one command until an answer settles it. */
  async execute(sent: SentCommand): Promise<SentCommand> {
    await this.untilSettled(async (url) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'thalo-command-id': sent.commandId };
      if (sent.expectedVersion !== undefined) headers['thalo-expected-version'] = String(sent.expectedVersion);
      sent.attempts++;
      sent.lastAttemptAt = Date.now();
      const path = `/v1/aggregates/${encodeURIComponent(sent.aggregate)}/${encodeURIComponent(sent.id)}/commands/${sent.command}`;
      const { status, body } = await request(`${url}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(sent.payload),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return this.settle(sent, status, body);
    });
    return sent;
  }

  /** Send commands as one batch (`POST /v1/commands`) until every one of them is settled. */
  async executeBatch(batch: SentCommand[]): Promise<SentCommand[]> {
    await this.untilSettled(async (url) => {
      const commands = batch.map((c) => ({
        aggregate: c.aggregate,
        id: c.id,
        command: c.command,
        payload: c.payload,
        commandId: c.commandId,
        ...(c.expectedVersion === undefined ? {} : { expectedVersion: c.expectedVersion }),
      }));
      for (const c of batch) {
        c.attempts++;
        c.lastAttemptAt = Date.now();
      }
      const { status, body } = await request(`${url}/v1/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ commands }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (status !== 200) return batch.every((c) => this.settle(c, status, body));
      // Each result is the command's own answer. Sent again, the whole batch goes again: the
      // acknowledged ones come back as duplicates, and every answer of the last try is the truth
      // (a rejection may turn into an acknowledgement once an earlier command of the batch, whose
      // answer was lost, has been applied).
      const results = body.results as { status: number; result?: unknown; error?: unknown }[];
      const settled = batch.map((c, i) =>
        this.settle(c, results[i]!.status, results[i]!.status === 200 ? results[i]!.result : results[i]!.error),
      );
      return settled.every(Boolean);
    });
    return batch;
  }

  /**
   * Run `attempt` against the serving generation until it returns true. A connection failure
   * (the process was killed, or the request timed out) tries again on the generation after.
   */
  private async untilSettled(attempt: (url: string) => Promise<boolean>): Promise<void> {
    let generation = await this.runtime.serving();
    for (let tries = 1; ; tries++) {
      // A fault that never clears would hang the run; fail it with the last answers instead.
      if (tries > MAX_TRIES)
        throw new Error(`no settling answer after ${MAX_TRIES} tries; last faults: ${JSON.stringify(this.faults.slice(-3))}`);
      try {
        if (await attempt(generation.url)) return;
        await new Promise((r) => setTimeout(r, 100));
        generation = await this.runtime.serving();
      } catch {
        this.lostAnswers++;
        generation = await this.runtime.retryTarget();
      }
    }
  }

  /** Record an answer; false when it leaves the outcome open (a 5xx fault, to be retried). */
  private settle(sent: SentCommand, status: number, body: any): boolean {
    sent.answeredAt = Date.now();
    if (status === 200) {
      sent.outcome = 'acknowledged';
      sent.version = body.version;
      sent.duplicate = body.duplicate;
      if (body.duplicate && sent.attempts === 1 && sent.intent !== 'resend' && this.options.runtimeRetries) {
        this.internalRetries++;
      } else if (body.duplicate && sent.attempts === 1 && sent.intent !== 'resend') {
        this.surprises.push(
          `${sent.aggregate} ${sent.id} ${sent.command}: a fresh command id ${sent.commandId} was answered as a duplicate`,
        );
      }
      sent.events = (body.events as EventRef[]).map(({ id, position, stream, seq, type, data }) => ({
        id,
        position,
        stream,
        seq,
        type,
        data,
      }));
      delete sent.code;
      delete sent.data;
      return true;
    }
    const code = typeof body?.code === 'string' ? body.code : `HTTP_${status}`;
    if (status === 422) {
      sent.outcome = 'rejected';
      sent.code = body?.data?.code;
      sent.data = body?.data?.data;
      return true;
    }
    if (status === 409) {
      sent.outcome = 'conflict';
      sent.code = code;
      sent.data = body?.data;
      return true;
    }
    if (status === 504 && code === 'COMMAND_TIMEOUT') {
      // Nothing was written (docs/http-api.md), so the outcome is known: not applied.
      sent.outcome = 'timeout';
      sent.code = code;
      return true;
    }
    if (status >= 500) {
      this.faults.push({ commandId: sent.commandId, aggregate: sent.aggregate, status, code, message: String(body?.message ?? body) });
      return false;
    }
    sent.outcome = 'refused';
    sent.code = code;
    this.surprises.push(
      `${sent.aggregate} ${sent.id} ${sent.command} (${sent.intent}) was refused with ${status} ${code}: ${body?.message}`,
    );
    return true;
  }

  /** Send an acknowledged command again, as it was, and record whether the answer is the original. */
  async resend(original: SentCommand): Promise<void> {
    const copy: SentCommand = { ...original, intent: 'resend', attempts: 0, outcome: 'pending', events: [], sentAt: Date.now() };
    await this.execute(copy);
    const sameEvents = copy.events.map((e) => e.id).join() === original.events.map((e) => e.id).join();
    this.resends.push({ original, duplicate: copy.duplicate === true, sameEvents, status: copy.outcome === 'acknowledged' ? 200 : 0 });
  }
}
