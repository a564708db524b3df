/**
 * Finding a stream's events: a chain through the log plus a sparse index.
 *
 * Every event records `previous`, the position of its stream's event before it (0 for the
 * first), and each stream's last seq and position is its head: in `recent-heads` when it was
 * written lately, else in `heads` (see `foldRecentHeads`). `streams` holds an entry for
 * every STREAM_INDEX_EVERY-th seq only. To read from seq `from`, a reader takes the first index
 * entry at or after `from` (or the head when there is none), walks the chain back to `from`, and
 * hands the events out in order; then the next entry, and so on. It reads each event once, as a
 * full index would, plus at most STREAM_INDEX_EVERY - 1 events past a limit.
 *
 * Why not one index entry per event: every stream's entries sit together in the index, so an
 * append to each of many streams changes a page of its own in it, and a commit writes and syncs
 * all those scattered pages (about one per command). With the chain, a commit writes the end of
 * the log and the pages of `heads` it touched: measured on the 2-core reference machine, commits
 * of 400 single-event appends to random streams among 10,000, on a log of 600,000 events, went
 * from ~38,000 to ~92,000 events/s (bench/store.ts, "appends at scale").
 *
 * Directories written before the chain (format 1) have an entry for every seq, a plain seq in
 * `heads` and no `previous`: where an event lacks `previous`, its predecessor is found in the
 * index, which then has it. New appends to such a stream start the chain from its last event.
 */
import type { Database } from 'lmdb';
import type { ThaloError } from '../errors.js';
import { damaged, damagedAt, describeFailure, isReadFailure } from './damage.js';
import { MAX_KEY_NUMBER } from './databases.js';
import type { HeadRecord, StoreDatabases } from './databases.js';
import { guardedRange, readEvent } from './event-reads.js';
import type { StoredEvent, StreamEntry } from './types.js';

/** Every how many seqs of a stream `streams` has an entry. */
export const STREAM_INDEX_EVERY = 32;

/** A stream's last event: its seq (the stream's version) and its position; both 0 for no events. */
export interface Head {
  seq: number;
  position: number;
}

const EMPTY_HEAD: Head = { seq: 0, position: 0 };

/** Whether the event with this seq gets an entry in `streams`. */
export function isIndexed(seq: number): boolean {
  return seq % STREAM_INDEX_EVERY === 0;
}

/**
 * The head record of `stream` as stored, unchecked: from `recent-heads`, which wins, else from
 * `heads` (a `[seq, position]` pair, or a plain seq in format 1). Throws what lmdb-js throws.
 */
export function storedHead(dbs: StoreDatabases, stream: string): HeadRecord | number | undefined {
  return dbs.recentHeads.get(stream) ?? dbs.heads.get(stream);
}

/** The head of `stream` (`storedHead`), checked, in either format of `heads`. */
export function readHead(dbs: StoreDatabases, stream: string): Head {
  let value: HeadRecord | number | undefined;
  let position: number | undefined;
  try {
    value = storedHead(dbs, stream);
    if (value === undefined) return EMPTY_HEAD;
    if (typeof value !== 'number') {
      if (Array.isArray(value) && isCount(value[0]) && isCount(value[1])) return { seq: value[0], position: value[1] };
      throw damagedStream(dbs, stream, `its head reads as ${JSON.stringify(value)}`);
    }
    position = dbs.streams.get([stream, value]);
  } catch (error) {
    throw asStreamDamage(dbs, stream, error);
  }
  if (position === undefined) throw damagedStream(dbs, stream, `its head seq ${value} has no index entry`);
  return { seq: value, position };
}

/**
 * How far behind the log's end a stream's head may have been written and stay in `recent-heads`,
 * in positions. Older ones are folded into `heads` by `foldRecentHeads`.
 */
export const RECENT_HEADS_WINDOW = 32_768;

/** Records `stream`'s new head, inside the write transaction: in `recent-heads`, where reads look first. */
export function writeHead(dbs: StoreDatabases, stream: string, seq: number, position: number): void {
  dbs.recentHeads.put(stream, [seq, position]);
}

/** Where each store handle's last fold stopped in `recent-heads`: a hint, so a new handle starts over. */
const foldedUpTo = new WeakMap<StoreDatabases, string>();

/**
 * Moves the heads in `recent-heads` written more than RECENT_HEADS_WINDOW positions before
 * `lastPosition` into `heads`. It reads `budget` entries of `recent-heads` in key order, going on
 * from where this handle's last fold stopped and starting over after the last key. Runs inside
 * the write transaction that appended up to `lastPosition`, so a head and its move commit
 * together or not at all.
 *
 * Why two databases: a commit writes every page it changed to a new place, and a key of its own
 * changes a page of its own once the tree has more pages than the commit has keys. With a million
 * streams in `heads`, a commit of 2,000 appends to streams spread among them rewrote ~1,640
 * scattered pages. `recent-heads` holds only the streams written lately, a working set of a few
 * pages per thousand streams, whatever the number of streams in the log (docs/store.md, "As the
 * log grows"). `budget` at twice the appends of the transaction keeps it within about twice the
 * window even when every append is to a stream of its own: each fold then finds at least half of
 * what it reads old enough.
 */
export function foldRecentHeads(dbs: StoreDatabases, lastPosition: number, budget: number): void {
  const cutoff = lastPosition - RECENT_HEADS_WINDOW;
  if (cutoff <= 0) return;
  const after = foldedUpTo.get(dbs);
  const read: { key: string; value: HeadRecord }[] = [];
  try {
    const range = dbs.recentHeads.getRange(after === undefined ? { limit: budget } : { start: after, limit: budget + 1 });
    for (const entry of guardedRange(range, (error) => error)) if (entry.key !== after) read.push(entry);
  } catch (error) {
    // A damaged page of `recent-heads` must not fail the appends: the heads on it stay where they
    // are, each read of them reports the damage, and `--verify` lists it.
    if (isReadFailure(error)) return;
    throw error;
  }
  if (read.length < budget) foldedUpTo.delete(dbs);
  else foldedUpTo.set(dbs, read[read.length - 1]!.key);
  for (const { key, value } of read) {
    if (!Array.isArray(value) || !isCount(value[1]) || value[1] > cutoff) continue;
    dbs.heads.put(key, value);
    dbs.recentHeads.remove(key);
  }
}

/**
 * Events of `stream` with seq `from` and up, in order, at most `limit`, and no more than hold
 * `maxBytes` of data (but at least one). A chunk between two index entries is read whole (at
 * most STREAM_INDEX_EVERY events), then cut.
 */
export function readForward(dbs: StoreDatabases, stream: string, from: number, limit: number, maxBytes = Infinity): StoredEvent[] {
  const out: StoredEvent[] = [];
  const head = readHead(dbs, stream);
  let next = from;
  if (next > head.seq) return out;
  let bytes = 0;
  let counted = 0;
  const full = (): boolean => {
    for (; counted < out.length; counted++) bytes += out[counted]!.data.length;
    return out.length >= limit || bytes > maxBytes;
  };
  for (const { key, value } of indexRange(dbs, stream, { start: [stream, from], end: [stream, MAX_KEY_NUMBER] })) {
    next = walkTo(dbs, stream, key[1], value, next, out);
    if (full()) break;
  }
  if (!full() && next <= head.seq) walkTo(dbs, stream, head.seq, head.position, next, out);
  cut(out, limit, maxBytes);
  return out;
}

/** Events of `stream` from seq `from` (default: its last) down, at most `limit`, holding at most `maxBytes` of data (but at least one). */
export function readBackward(
  dbs: StoreDatabases,
  stream: string,
  from: number | undefined,
  limit: number,
  maxBytes = Infinity,
): StoredEvent[] {
  const out: StoredEvent[] = [];
  const head = readHead(dbs, stream);
  const start = Math.min(from ?? head.seq, head.seq);
  if (start < 1) return out;
  let anchor = head;
  for (const { key, value } of indexRange(dbs, stream, { start: [stream, start], end: [stream, MAX_KEY_NUMBER], limit: 1 })) {
    anchor = { seq: key[1], position: value };
  }
  let event = eventAt(dbs, stream, anchor.position, anchor.seq);
  while (event.seq > start) event = previousOf(dbs, stream, event);
  out.push(event);
  let bytes = event.data.length;
  while (out.length < limit && event.seq > 1) {
    event = previousOf(dbs, stream, event);
    bytes += event.data.length;
    if (bytes > maxBytes) break;
    out.push(event);
  }
  return out;
}

/**
 * The streams whose names start with `prefix` and come after `after`, in key order, at most
 * `limit`: a range read over `recent-heads` and one over `heads`, merged, the recent head winning
 * where a stream is in both.
 */
export function listStreams(dbs: StoreDatabases, prefix: string, after: string | undefined, limit: number): StreamEntry[] {
  if (limit === 0) return [];
  const versions = new Map<string, number>();
  // The first `limit` of each range hold the first `limit` of both together.
  for (const db of [dbs.heads, dbs.recentHeads] as Database<HeadRecord | number, string>[]) {
    for (const { key, value } of headsAfter(dbs, db, prefix, after, limit)) {
      // A head of format 1 is the plain seq (see above).
      const version = typeof value === 'number' ? value : Array.isArray(value) ? value[0] : undefined;
      if (!isCount(version)) throw damagedStream(dbs, key, `its head reads as ${JSON.stringify(value)}`);
      versions.set(key, version);
    }
  }
  // In the databases' own order: ordered-binary compares strings by their UTF-8 bytes (each
  // name encoded once, not once per comparison).
  const sorted = [...versions].map(([stream, version]) => ({ stream, version, bytes: Buffer.from(stream) }));
  sorted.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  return sorted.slice(0, limit).map(({ stream, version }) => ({ stream, version }));
}

/** Up to `limit` entries of `db` (one of the heads) whose keys start with `prefix` and come after `after`. */
function headsAfter(
  dbs: StoreDatabases,
  db: Database<HeadRecord | number, string>,
  prefix: string,
  after: string | undefined,
  limit: number,
): { key: string; value: HeadRecord | number }[] {
  const out: { key: string; value: HeadRecord | number }[] = [];
  // A range starts at its key inclusive, so the page's `after` itself is skipped below; an
  // `after` before the prefix's keys starts at the prefix instead.
  const start = after !== undefined && after > prefix ? after : prefix;
  const range = guardedRange(db.getRange(start === '' ? {} : { start }), (error) =>
    isReadFailure(error) ? damaged(dbs.path, `listing streams failed: ${describeFailure(error)}`, {}, error) : error,
  );
  for (const { key, value } of range as Iterable<{ key: string; value: HeadRecord | number }>) {
    if (!key.startsWith(prefix)) break;
    if (key === after) continue;
    out.push({ key, value });
    if (out.length >= limit) break;
  }
  return out;
}

/** Keeps at most `limit` events of `out`, and only as many as hold `maxBytes` (but at least one). */
function cut(out: StoredEvent[], limit: number, maxBytes: number): void {
  if (out.length > limit) out.length = limit;
  if (maxBytes === Infinity) return;
  let bytes = 0;
  for (let i = 0; i < out.length; i++) {
    bytes += out[i]!.data.length;
    if (bytes > maxBytes && i > 0) {
      out.length = i;
      return;
    }
  }
}

/**
 * Appends to `out` the events with seqs `next` to `anchorSeq`, in order, walking the chain back
 * from the anchor's event. Returns the seq after the anchor.
 */
function walkTo(dbs: StoreDatabases, stream: string, anchorSeq: number, anchorPosition: number, next: number, out: StoredEvent[]): number {
  let event = eventAt(dbs, stream, anchorPosition, anchorSeq);
  const chunk = [event];
  while (event.seq > next) {
    event = previousOf(dbs, stream, event);
    chunk.push(event);
  }
  for (let i = chunk.length - 1; i >= 0; i--) out.push(chunk[i]!);
  return anchorSeq + 1;
}

function previousOf(dbs: StoreDatabases, stream: string, event: StoredEvent): StoredEvent {
  const seq = event.seq - 1;
  let position = event.previous;
  try {
    position ??= dbs.streams.get([stream, seq]);
  } catch (error) {
    throw asStreamDamage(dbs, stream, error);
  }
  if (position === undefined) throw damagedStream(dbs, stream, `seq ${seq} is neither chained nor indexed`);
  return eventAt(dbs, stream, position, seq);
}

/** The event at `position`, checked (event-reads.ts), which must be seq `seq` of `stream`. */
function eventAt(dbs: StoreDatabases, stream: string, position: number, seq: number): StoredEvent {
  const event = readEvent(dbs, position);
  if (event === undefined || event.stream !== stream || event.seq !== seq) {
    const holds = event ? `seq ${event.seq} of "${event.stream}"` : 'nothing';
    throw damagedAt(dbs.path, position, `stream "${stream}" leads there for its seq ${seq}, but it holds ${holds}`);
  }
  return event;
}

/** The index entries of `stream` in `options`' range, read so that a failure leaves no cursor open. */
function indexRange(dbs: StoreDatabases, stream: string, options: object): Iterable<{ key: [string, number]; value: number }> {
  return guardedRange(dbs.streams.getRange(options), (error) => asStreamDamage(dbs, stream, error));
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function asStreamDamage(dbs: StoreDatabases, stream: string, error: unknown): unknown {
  return isReadFailure(error) ? damagedStream(dbs, stream, `reading its head or index failed: ${describeFailure(error)}`, error) : error;
}

function damagedStream(dbs: StoreDatabases, stream: string, problem: string, cause?: unknown): ThaloError {
  return damaged(dbs.path, `stream "${stream}": ${problem}`, { stream }, cause);
}
