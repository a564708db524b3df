/**
 * Reading events so that damage is an error naming its position, never a wrong event.
 *
 * Every event read goes through here: one position (`readEvent`) or a run of positions
 * (`readEvents`). Each event must pass its checksum (checksum.ts), decode to the envelope's
 * shape, and sit under the key that is its own position; a run must also be dense (the log has
 * every position from 1 to the last, so a missing one is damage). Any of these, or an LMDB error
 * while reading (MDB_PAGE_NOTFOUND, MDB_CORRUPTED, MDB_BAD_TXN), throws `STORE_CORRUPTED`
 * naming the position.
 *
 * Keeping other reads working after an LMDB error: LMDB marks the read transaction that met the
 * error as failed, and every later read in it answers MDB_BAD_TXN. The store renews its read
 * transaction before each read (EventStore.beginRead), which clears that, unless a cursor is
 * still open on it: lmdb-js then keeps the failed transaction aside and, as long as nothing was
 * committed since, hands that same transaction to the next read (node_modules/lmdb/src/txn.cpp, "if a txn is
 * passed in, we check to see if it is up-to-date and can be reused"). lmdb-js's range iterator
 * closes its cursor when it ends or when `return()` is called, but not when its `next()` throws,
 * and a `for…of` calls `return()` only when its body throws or breaks. So every range read of the
 * store calls `return()` itself when `next()` fails (`guardedRange`), and events are read with
 * `get`s, which hold no cursor: that is what turned "every read fails with MDB_BAD_TXN until
 * restart" into one failed read.
 */
import { DamagedRecord } from './checksum.js';
import { damaged, damagedAt, describeFailure, isReadFailure } from './damage.js';
import { MAX_KEY_NUMBER } from './databases.js';
import type { StoreDatabases } from './databases.js';
import type { Snapshot, StoredEvent } from './types.js';

/** `failure` as `STORE_CORRUPTED` at `position` when it is one, as itself otherwise. */
function asDamage(path: string, position: number, failure: unknown): unknown {
  return isReadFailure(failure) ? damagedAt(path, position, `reading it failed: ${describeFailure(failure)}`, failure) : failure;
}

/**
 * Iterates an lmdb-js range and closes its cursor whatever happens: when the consumer stops
 * early, and (unlike `for…of`) when reading the next entry throws, which is then passed through
 * `onFailure`. See the file comment for why the cursor must not stay open.
 */
export function* guardedRange<T>(range: Iterable<T>, onFailure: (error: unknown) => unknown): Generator<T, void, undefined> {
  let iterator: Iterator<T>;
  try {
    iterator = range[Symbol.iterator]();
  } catch (error) {
    throw onFailure(error);
  }
  let done = false;
  try {
    for (;;) {
      let result: IteratorResult<T>;
      try {
        result = iterator.next();
      } catch (error) {
        throw onFailure(error);
      }
      if (result.done) {
        done = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!done) iterator.return?.();
  }
}

/** The event at `position`, checked; undefined when the log has no such position. */
export function readEvent(dbs: StoreDatabases, position: number): StoredEvent | undefined {
  let value: unknown;
  try {
    value = dbs.events.get(position);
  } catch (error) {
    throw asDamage(dbs.path, position, error);
  }
  if (value === undefined) return undefined;
  checkEvent(dbs.path, position, value);
  return value;
}

/** The last position in the log, 0 when it is empty. */
export function readLastPosition(dbs: StoreDatabases): number {
  const keys = dbs.events.getKeys({ start: MAX_KEY_NUMBER, end: 0, reverse: true, limit: 1 });
  for (const key of guardedRange(keys, (error) =>
    isReadFailure(error) ? damaged(dbs.path, `finding the last position failed: ${describeFailure(error)}`, {}, error) : error,
  )) {
    return key;
  }
  return 0;
}

/**
 * The log from `from` on, at most `limit` events, each checked, handed to `visit` in order until
 * it returns false. A position missing below the last one is damage.
 *
 * One `get` per position, not a cursor: lmdb-js's cursor copies each key it meets into a 4 KiB
 * buffer without checking its size (node_modules/lmdb/src/cursor.cpp, `returnEntry`), so a page of garbage under a
 * cursor can overflow the heap and abort the process ("malloc(): invalid size"), while a `get`
 * only compares keys in place and copies a value that fits its buffer (found writing
 * test/store/corruption.test.ts: a leaf page overwritten with pseudo-random bytes aborted a range
 * scan; reading by `get` failed cleanly, and a process that aborts on every read of that range
 * would keep no other read working). The log is dense, so a get per position finds the same
 * events. It costs more per event than a cursor's step: on the 2-core reference machine the
 * projection catch-up of `npm run bench` ran at ~440k–510k events/s by get against ~570k by
 * cursor (checks included in both) and ~650k before the checks (the same session).
 */
export function readEvents(dbs: StoreDatabases, from: number, limit: number, visit: (event: StoredEvent) => boolean): void {
  const last = readLastPosition(dbs);
  const end = limit === Infinity ? last : Math.min(last, from + limit - 1);
  for (let position = from; position <= end; position++) {
    const event = readEvent(dbs, position);
    if (event === undefined) throw damagedAt(dbs.path, position, `the log goes on to position ${last}, but has no event there`);
    if (!visit(event)) return;
  }
}

/**
 * Throws `STORE_CORRUPTED` unless `value`, read under `position`, is a whole event stored there.
 * Cheap next to decoding it (a dozen property reads).
 */
export function checkEvent(path: string, position: number, value: unknown): asserts value is StoredEvent {
  if (value instanceof DamagedRecord) throw damagedAt(path, position, value.problem);
  const event = value as Partial<StoredEvent> | null;
  if (
    typeof event !== 'object' ||
    event === null ||
    event.position !== position ||
    typeof event.stream !== 'string' ||
    !Number.isSafeInteger(event.seq) ||
    event.seq! < 1 ||
    typeof event.id !== 'string' ||
    typeof event.type !== 'string' ||
    !(event.data instanceof Uint8Array) ||
    typeof event.timestamp !== 'number' ||
    typeof event.metadata !== 'object' ||
    event.metadata === null ||
    (event.previous !== undefined && !Number.isSafeInteger(event.previous))
  ) {
    throw damagedAt(path, position, describeShape(event, position));
  }
}

function describeShape(event: Partial<StoredEvent> | null, position: number): string {
  if (typeof event !== 'object' || event === null) return `it decodes to ${event === null ? 'null' : typeof event}, not an event`;
  if (event.position !== position) return `the event stored under it says position ${String(event.position)}`;
  const fields = ['stream', 'seq', 'id', 'type', 'data', 'timestamp', 'metadata', 'previous'] as const;
  return `it decodes to an event with a broken field (${fields.map((f) => `${f}: ${typeof event[f]}`).join(', ')})`;
}

/**
 * The snapshot of `stream`; undefined when there is none or it is damaged. A snapshot is derived
 * from the stream's events, so a damaged one is dropped rather than failing the stream: the state
 * is rebuilt from the events (the truth), and `thalo-runtime --verify` reports it.
 */
export function readSnapshot(dbs: StoreDatabases, stream: string): Snapshot | undefined {
  let stored: unknown;
  try {
    stored = dbs.snapshots.get(stream);
  } catch (error) {
    if (isReadFailure(error)) return undefined;
    throw error;
  }
  const snapshot = stored as Partial<Snapshot> | undefined;
  if (snapshot === undefined || !Number.isSafeInteger(snapshot.seq) || !(snapshot.state instanceof Uint8Array)) return undefined;
  return { seq: snapshot.seq!, state: snapshot.state };
}
