/**
 * What a PostgreSQL append transaction decides, once it holds the log's head: the same checks
 * and the same outcomes as LMDB's (../append-transaction.ts), made in memory over the stream heads
 * and command ids it read, and the rows to write.
 *
 * Requests run in order, each all-or-nothing: all its checks happen before it adds a row, and the
 * heads and command ids it changes are seen by the requests after it, as in one LMDB transaction.
 */
import { ThaloError } from '../../errors.js';
import { checkExpectedVersion } from '../../expected-version.js';
import { RequestChains } from '../append-requests.js';
import { commandIdReused } from '../command-ids.js';
import type { PreparedRequest } from '../validation.js';
import type { BatchAppendOutcome, Snapshot, StoredEvent } from '../types.js';

export interface StreamHead {
  version: number;
  lastPosition: number;
}

/** A command id as the `commands` table keeps it. */
export interface CommandRow {
  stream: string;
  firstPosition: number;
  count: number;
  version: number;
  recordedAt: number;
}

/** A duplicate whose original events are in the log already: the transaction reads them in. */
export interface PendingDuplicate {
  index: number;
  commandId: string;
  stream: string;
  version: number;
  firstPosition: number;
  count: number;
}

export interface AppendPlan {
  outcomes: BatchAppendOutcome[];
  duplicates: PendingDuplicate[];
  events: StoredEvent[];
  heads: Map<string, StreamHead>;
  commands: Map<string, CommandRow>;
  snapshots: Map<string, Snapshot>;
  lastPosition: number;
}

export interface PlanInput {
  requests: PreparedRequest[];
  lastPosition: number;
  heads: Map<string, StreamHead>;
  commands: Map<string, CommandRow>;
  now: number;
  idempotencyWindowMs: number;
}

export function planAppends({ requests, lastPosition, heads, commands, now, idempotencyWindowMs }: PlanInput): AppendPlan {
  const plan: AppendPlan = {
    outcomes: new Array<BatchAppendOutcome>(requests.length),
    duplicates: [],
    events: [],
    heads: new Map(),
    commands: new Map(),
    snapshots: new Map(),
    lastPosition,
  };
  /** The events stored by this batch, by position, for a command id repeated in it. */
  const written = new Map<number, StoredEvent>();
  const headOf = (stream: string): StreamHead => plan.heads.get(stream) ?? heads.get(stream) ?? { version: 0, lastPosition: 0 };
  const chains = new RequestChains();

  requests.forEach((request, index) => {
    try {
      const { stream, commandId } = request;
      if (commandId !== undefined) {
        const record = plan.commands.get(commandId) ?? commands.get(commandId);
        if (record !== undefined && now - record.recordedAt < idempotencyWindowMs) {
          if (record.stream !== stream) throw commandIdReused(commandId, stream, record.stream);
          if (record.count > 0 && written.has(record.firstPosition)) {
            const events = Array.from({ length: record.count }, (_, i) => written.get(record.firstPosition + i)!);
            plan.outcomes[index] = { ok: true, result: { stream, version: record.version, events, duplicate: true } };
          } else {
            plan.duplicates.push({
              index,
              commandId,
              stream,
              version: record.version,
              firstPosition: record.firstPosition,
              count: record.count,
            });
          }
          chains.settle(request, false);
          return;
        }
      }
      const head = headOf(stream);
      chains.check(request, head.version);
      checkExpectedVersion(stream, request.expected, head.version);
      const count = request.events.length;
      const version = head.version + count;
      if (request.snapshot !== undefined && request.snapshot.seq > version) {
        throw new ThaloError(
          'INVALID_ARGUMENT',
          `snapshot.seq ${request.snapshot.seq} is past stream "${stream}", which will be at ${version}`,
          { data: { stream, seq: request.snapshot.seq, version } },
        );
      }
      // From here on only rows: the request can no longer fail on its own.
      const stored = new Array<StoredEvent>(count);
      let previous = head.lastPosition;
      for (let i = 0; i < count; i++) {
        const event = request.events[i]!;
        const position = plan.lastPosition + 1 + i;
        const record: StoredEvent = {
          position,
          stream,
          seq: head.version + 1 + i,
          id: event.id,
          type: event.type,
          data: event.data,
          timestamp: now,
          metadata: event.metadata,
          previous,
        };
        stored[i] = record;
        plan.events.push(record);
        written.set(position, record);
        previous = position;
      }
      if (count > 0) plan.heads.set(stream, { version, lastPosition: previous });
      if (commandId !== undefined)
        plan.commands.set(commandId, { stream, firstPosition: plan.lastPosition + 1, count, version, recordedAt: now });
      if (request.snapshot !== undefined) plan.snapshots.set(stream, request.snapshot);
      plan.lastPosition += count;
      plan.outcomes[index] = { ok: true, result: { stream, version, events: stored, duplicate: false } };
      chains.settle(request, true);
    } catch (error) {
      if (!(error instanceof ThaloError)) throw error;
      plan.outcomes[index] = { ok: false, error };
      chains.settle(request, false);
    }
  });
  return plan;
}
