/**
 * What runs inside the write transaction: the checks that need the stored state, then the writes.
 *
 * lmdb-js runs every `transaction()` callback queued in the same turn inside ONE LMDB write
 * transaction (group commit), and LMDB lets one writer in at a time across threads and
 * processes. So what a callback reads here (the last position, a stream's head, a command id) is
 * the truth, and what it writes is seen by the callbacks after it in the same transaction. That
 * is why positions are dense and in commit order, and why expected versions are compared here and
 * not against a head read earlier.
 *
 * Each request is all-or-nothing on its own: all its reads and checks happen before its first
 * write, so a request that fails has written nothing and the others in the batch go on. Requests
 * arrive already validated (validation.ts), so the writes themselves cannot fail on bad input; an
 * LMDB failure during a write (disk full) poisons the whole transaction, whose commit then fails
 * as a whole.
 */
import { ThaloError } from '../errors.js';
import { checkExpectedVersion } from '../expected-version.js';
import { RequestChains } from './append-requests.js';
import { commandIdReused } from './command-ids.js';
import { EMPTY_VALUE, putEvent } from './databases.js';
import type { CommandRecord, StoreDatabases } from './databases.js';
import type { PreparedRequest } from './validation.js';
import { damagedAt } from './damage.js';
import { readEvents, readLastPosition as readLastEventPosition } from './event-reads.js';
import { foldRecentHeads, isIndexed, readHead, writeHead } from './stream-index.js';
import type { AppendResult, BatchAppendOutcome, StoredEvent } from './types.js';

/** How many expired command ids one transaction deletes at most. */
const PRUNE_LIMIT = 1000;
/** Entries of `recent-heads` a transaction reads at least to fold the old ones (stream-index.ts). */
const FOLD_MIN = 32;

export interface AppendContext {
  /** The commit time, in ms: every event of this callback gets it as its timestamp. */
  now: number;
  idempotencyWindowMs: number;
  /** Delete command ids past the window in this transaction. */
  prune: boolean;
}

/** Applies `requests` in order inside the current write transaction. */
export function applyRequests(dbs: StoreDatabases, requests: PreparedRequest[], context: AppendContext): BatchAppendOutcome[] {
  let lastPosition = readLastPosition(dbs);
  const outcomes = new Array<BatchAppendOutcome>(requests.length);
  const chains = new RequestChains();
  for (let i = 0; i < requests.length; i++) {
    const request = requests[i]!;
    try {
      const result = applyRequest(dbs, request, lastPosition, context, chains);
      if (!result.duplicate && result.events.length > 0) lastPosition = result.events[result.events.length - 1]!.position;
      outcomes[i] = { ok: true, result };
      chains.settle(request, !result.duplicate);
    } catch (error) {
      if (!(error instanceof ThaloError)) throw error;
      outcomes[i] = { ok: false, error };
      chains.settle(request, false);
    }
  }
  if (context.prune) pruneExpiredCommands(dbs, context.now - context.idempotencyWindowMs);
  foldRecentHeads(dbs, lastPosition, Math.max(FOLD_MIN, 2 * requests.length));
  return outcomes;
}

function applyRequest(
  dbs: StoreDatabases,
  request: PreparedRequest,
  lastPosition: number,
  context: AppendContext,
  chains: RequestChains,
): AppendResult {
  const { stream, commandId } = request;
  if (commandId !== undefined) {
    const previous = findCommandRecord(dbs, commandId, context.now, context.idempotencyWindowMs);
    if (previous !== undefined) return duplicateResult(dbs, commandId, previous, stream);
  }

  const head = readHead(dbs, stream);
  chains.check(request, head.seq);
  checkExpectedVersion(stream, request.expected, head.seq);
  const count = request.events.length;
  const version = head.seq + count;
  if (request.snapshot !== undefined && request.snapshot.seq > version) {
    throw new ThaloError(
      'INVALID_ARGUMENT',
      `snapshot.seq ${request.snapshot.seq} is past stream "${stream}", which will be at ${version}`,
      {
        data: { stream, seq: request.snapshot.seq, version },
      },
    );
  }

  // From here on only writes: the request can no longer fail on its own.
  const stored = new Array<StoredEvent>(count);
  let previous = head.position;
  for (let i = 0; i < count; i++) {
    const event = request.events[i]!;
    const position = lastPosition + 1 + i;
    const seq = head.seq + 1 + i;
    const record: StoredEvent = {
      position,
      stream,
      seq,
      id: event.id,
      type: event.type,
      data: event.data,
      timestamp: context.now,
      metadata: event.metadata,
      previous,
    };
    putEvent(dbs.events, record);
    if (isIndexed(seq)) dbs.streams.put([stream, seq], position);
    stored[i] = record;
    previous = position;
  }
  if (count > 0) writeHead(dbs, stream, version, previous);
  if (commandId !== undefined) {
    const record: CommandRecord = [stream, lastPosition + 1, count, version, context.now];
    dbs.commands.put(commandId, record);
    dbs.commandExpiry.put([context.now, commandId], EMPTY_VALUE);
  }
  if (request.snapshot !== undefined) dbs.snapshots.put(stream, request.snapshot);
  return { stream, version, events: stored, duplicate: false };
}

/** The last position in the log, 0 when empty. */
export function readLastPosition(dbs: StoreDatabases): number {
  return readLastEventPosition(dbs);
}

/** The command id's record, unless there is none or it is past the idempotency window. */
export function findCommandRecord(dbs: StoreDatabases, commandId: string, now: number, windowMs: number): CommandRecord | undefined {
  const record = dbs.commands.get(commandId);
  if (record === undefined || now - record[4] >= windowMs) return undefined;
  return record;
}

/** The original append of a command id, read back from the log. */
export function duplicateResult(dbs: StoreDatabases, commandId: string, record: CommandRecord, stream: string): AppendResult {
  const [recordedStream, first, count, version] = record;
  if (recordedStream !== stream) throw commandIdReused(commandId, stream, recordedStream);
  const events: StoredEvent[] = [];
  if (count > 0) {
    readEvents(dbs, first, count, (event) => events.push(event) > 0);
    if (events.length < count)
      throw damagedAt(
        dbs.path,
        first + events.length,
        `command id "${commandId}" recorded ${count} events from position ${first}, but the log ends before`,
      );
  }
  return { stream, version, events, duplicate: true };
}

/**
 * Deletes up to PRUNE_LIMIT command ids that expired before `cutoff`, oldest first.
 * `command-expiry` is ordered by commit time, so this reads only what it deletes. An id may have
 * been used again after it expired (it then has a newer record and a newer expiry entry): its
 * record is deleted only when its commit time is the one of the expiry entry.
 */
function pruneExpiredCommands(dbs: StoreDatabases, cutoff: number): void {
  const expired: [number, string][] = [];
  for (const key of dbs.commandExpiry.getKeys({ start: [0, ''], end: [cutoff, ''], limit: PRUNE_LIMIT })) expired.push(key);
  for (const key of expired) {
    const [at, commandId] = key;
    const record = dbs.commands.get(commandId);
    if (record !== undefined && record[4] === at) dbs.commands.remove(commandId);
    dbs.commandExpiry.remove(key);
  }
}
