/**
 * The LMDB layout of a data directory: one environment, nine named databases. docs/store.md
 * has the same table for readers; keep them in step.
 *
 * | db               | key                  | value                                        |
 * | ---------------- | -------------------- | -------------------------------------------- |
 * | `events`         | position (1, 2, …)   | the StoredEvent itself, as a msgpack record  |
 * | `streams`        | `[stream, seq]`      | position, for every 32nd seq (stream-index.ts) |
 * | `heads`          | stream               | `[last seq, its position]` (stream-index.ts) |
 * | `recent-heads`   | stream               | the same, for heads written lately (stream-index.ts) |
 * | `checkpoints`    | subscriber name      | last position processed                      |
 * | `snapshots`      | stream               | `{ seq, state }`                             |
 * | `commands`       | command id           | `[stream, first position, count, version, committed at]` |
 * | `command-expiry` | `[committed at, id]` | empty: the commands in the order they expire |
 * | `format`         | `'version'`          | LMDB_FORMAT, the layout the directory holds  |
 *
 * Keys are lmdb's ordered-binary. In it `['s']` and `'s'` are the same key, so each database
 * holds keys of one shape only (strings in `heads`, pairs in `streams`), never both.
 */
import { open } from 'lmdb';
import type { Database, Key, RootDatabase } from 'lmdb';
import { ThaloError } from '../errors.js';
import { installChecksums } from './checksum.js';
import { damaged } from './damage.js';
import { checkMetaPages } from './meta-pages.js';
import type { StoredEvent } from './types.js';

/** The highest position or seq a range ever needs to reach (an upper bound for range scans). */
export const MAX_KEY_NUMBER = Number.MAX_SAFE_INTEGER;

/**
 * Where the msgpack record structures of `events` live (lmdb-js `sharedStructuresKey`). A symbol
 * key cannot collide with a position, and range scans are bounded to numbers anyway.
 */
const STRUCTURES_KEY = Symbol.for('thalo.structures');

export interface StoreDatabases {
  /** The data directory, for messages. */
  path: string;
  root: RootDatabase;
  /** Read events only through event-reads.ts, which checks them (a damaged one decodes to a `DamagedRecord`). */
  events: Database<StoredEvent, number>;
  streams: Database<number, [string, number]>;
  /** `[seq, position]`; a plain seq in directories written before the chain (see stream-index.ts). */
  heads: Database<HeadRecord | number, string>;
  /**
   * The heads written in the last RECENT_HEADS_WINDOW positions, which win over `heads` (see
   * stream-index.ts). Read-only, a store written before it existed has none: an empty stand-in.
   */
  recentHeads: Database<HeadRecord, string>;
  checkpoints: Database<number, string>;
  /** Checksummed like events: a damaged snapshot decodes to a `DamagedRecord`. */
  snapshots: Database<{ seq: number; state: Uint8Array }, string>;
  commands: Database<CommandRecord, string>;
  commandExpiry: Database<Uint8Array, [number, string]>;
  /** `version`: the LMDB_FORMAT the directory was last opened for writing with (none before 3). */
  format: Database<number, string>;
}

/**
 * The layout this code writes, kept in `format` under `version`: 1, an index entry per seq; 2,
 * the chain and a sparse index (stream-index.ts); 3, heads in two databases. Directories written
 * before 3 have no number and are read for what they hold. A higher number comes from a newer
 * release, whose layout this code may misread (as a release before 3 would miss `recent-heads`
 * and take folded heads for current ones), so such a directory is refused.
 */
export const LMDB_FORMAT = 3;
const FORMAT_KEY = 'version';

export type HeadRecord = [seq: number, position: number];

/** What the store remembers of a command id: `[stream, first position, count, version, committed at]`. */
export type CommandRecord = [stream: string, first: number, count: number, version: number, at: number];

/** Values of `command-expiry`: its keys say everything. */
export const EMPTY_VALUE = new Uint8Array(0);

/**
 * The envelope being encoded right now, the only object msgpackr may write as a shared record.
 *
 * Shared structures (a key list stored once in the database, each event then names it by one
 * byte) make an event about half the size and decode several times faster than a plain map
 * (measured: a readAll scan goes from ~500k to ~800k events/s). But msgpackr would also make a
 * structure for every distinct key set it meets inside an event: `metadata` and free-form
 * `headers` would fill the shared table with user-chosen key sets. So only the envelope is a
 * record; metadata and headers are plain maps. `put` encodes synchronously, so marking the
 * envelope just around the put is exact.
 */
let envelopeBeingEncoded: object | undefined;

/** Writes one stored event under its position. Must run inside a write transaction. */
export function putEvent(events: StoreDatabases['events'], event: StoredEvent): void {
  envelopeBeingEncoded = event;
  try {
    events.put(event.position, event);
  } finally {
    envelopeBeingEncoded = undefined;
  }
}

/** msgpack without records: these values are few and of no fixed shape. (lmdb's typings lack `useRecords`.) */
const PLAIN_MSGPACK = { encoding: 'msgpack', useRecords: false } as object;

/**
 * Opens (creating when missing) the environment in `path` and its databases. With `readOnly`
 * (`thalo-runtime --verify`), opens an existing store without writing anything to it.
 *
 * Durability: the environment is opened with `overlappingSync: false`, LMDB's classic commit:
 * fdatasync the data pages, then write the meta page through an O_DSYNC descriptor, all before
 * `mdb_txn_commit` returns, and lmdb-js resolves a transaction's promise only after that. So an
 * append resolves only once it is on disk, in both durability modes (see docs/store.md).
 *
 * Why not lmdb-js's default `overlappingSync` plus `await root.flushed`: (1) measured with a
 * delayed-fdatasync shim, lmdb-js 3.5.6 resolves the commit promise only after the sync of that
 * thread's own transaction anyway (the sync runs inside `mdb_txn_commit`, after it released the
 * write lock), so `relaxed` could not be faster on that path; (2) it writes the new meta page
 * before syncing the data, and only with the undocumented `usePreviousSnapshot` does LMDB roll
 * back to the last synced meta after a power loss, so a power cut during a sync could leave a meta
 * page pointing at pages that never reached the disk. What it buys is overlap across threads:
 * one thread's fsync no longer holds the write lock. Measured (bench/store.ts, and worker-thread
 * runs with a 2 ms fsync shim): the same single-thread group-commit throughput either way
 * (~110k single-event appends/s on this machine), but with 4 writer threads and a 2 ms fsync,
 * 17k vs 33k appends/s. We take the classic commit for its crash semantics; revisit if a slow
 * disk and many workers make the fsync under the lock the bottleneck.
 */
export function openDatabases(path: string, options: { readOnly?: boolean } = {}): StoreDatabases {
  const readOnly = options.readOnly === true;
  // A damaged meta page would crash LMDB inside open(): check them first.
  checkMetaPages(path);
  // `noSubdir: false` always: lmdb-js otherwise takes a path with a dot in its last part
  // (`./events.v2`, `mktemp -d`'s `/tmp/tmp.Xyz`) for the name of a single file, not a directory.
  // `eventTurnBatching: false`: every write of ours is an explicit `transaction()` (commitRequests
  // groups a turn's appends itself), so lmdb-js's grouping of a turn's loose writes adds nothing,
  // and its "batch start" write returns a promise lmdb-js drops: when that commit fails (a full
  // disk) the promise's rejection is unhandled and kills the thread. See write-failure.ts.
  let root: RootDatabase;
  try {
    root = open({ path, maxDbs: 12, overlappingSync: false, noSubdir: false, eventTurnBatching: false, readOnly });
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    const events = root.openDB<StoredEvent, number>('events', {
      encoding: 'msgpack',
      sharedStructuresKey: STRUCTURES_KEY,
      useRecords: (value: object) => value === envelopeBeingEncoded,
      // With records on, msgpackr would decode the plain maps (metadata, headers) as `Map`s.
      mapsAsObjects: true,
    } as object);
    // Only envelopes: the shared structures record is read by msgpackr itself, which would not
    // know what to do with a damaged value (see checksum.ts).
    installChecksums(events, (value) => value === envelopeBeingEncoded);
    const databases: StoreDatabases = {
      path,
      root,
      events,
      streams: root.openDB<number, [string, number]>('streams', { encoding: 'ordered-binary' }),
      heads: root.openDB<HeadRecord | number, string>('heads', { encoding: 'ordered-binary' }),
      recentHeads: openOrAbsent<HeadRecord, string>(root, 'recent-heads', readOnly),
      checkpoints: root.openDB<number, string>('checkpoints', { encoding: 'ordered-binary' }),
      snapshots: root.openDB<{ seq: number; state: Uint8Array }, string>('snapshots', PLAIN_MSGPACK),
      commands: root.openDB<CommandRecord, string>('commands', PLAIN_MSGPACK),
      commandExpiry: root.openDB<Uint8Array, [number, string]>('command-expiry', { encoding: 'binary' }),
      format: openOrAbsent<number, string>(root, 'format', readOnly),
    };
    // Before anything is written: a newer release's directory is left as it is.
    const format = checkFormat(databases.format, path);
    installChecksums(databases.snapshots, () => true);
    if (!readOnly) {
      checkStructures(events, path);
      saveEnvelopeStructure(events);
      if (format !== LMDB_FORMAT) databases.format.putSync(FORMAT_KEY, LMDB_FORMAT);
    }
    return databases;
  } catch (error) {
    void root.close();
    throw openFailure(path, error);
  }
}

/**
 * A database that a read-only open may find missing (a store written before it existed): lmdb-js
 * then hands back nothing, and this stands in with a database that holds no keys.
 */
function openOrAbsent<V, K extends Key>(root: RootDatabase, name: string, readOnly: boolean): Database<V, K> {
  const db = root.openDB<V, K>(name, { encoding: 'ordered-binary' }) as Database<V, K> | undefined;
  if (db !== undefined) return db;
  if (!readOnly) throw new Error(`lmdb-js opened no database "${name}" in a writable environment`);
  const none = { get: () => undefined, getRange: () => [] };
  return none as unknown as Database<V, K>;
}

/** The directory's recorded format (none before 3); throws `STORE_SCHEMA_UNSUPPORTED` when it is past LMDB_FORMAT. */
function checkFormat(format: Database<number, string>, path: string): number | undefined {
  const version = format.get(FORMAT_KEY);
  if (version === undefined || version <= LMDB_FORMAT) return version;
  throw new ThaloError(
    'STORE_SCHEMA_UNSUPPORTED',
    `the event store in ${path} was written by a newer release of thalo-node (format ${String(version)}; this release knows up to ${LMDB_FORMAT}); upgrade thalo-node to open it`,
    { data: { path, version, supported: LMDB_FORMAT } },
  );
}

/** LMDB's own damage reports while opening, as `STORE_CORRUPTED`; other errors as they are. */
function openFailure(path: string, error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (!/MDB_(PAGE_NOTFOUND|CORRUPTED|PANIC|INVALID|VERSION_MISMATCH|BAD_TXN|INCOMPATIBLE)/.test(message)) return error;
  return damaged(path, `LMDB cannot open it: ${message}`, {}, error);
}

/**
 * Throws `STORE_CORRUPTED` when a store with events has no readable structures record. msgpackr
 * would take an unreadable record for a missing one, and `saveEnvelopeStructure` would then write
 * a new one into whatever page held it: LMDB aborts the process (an assertion in `mdb_node_add`)
 * writing into a page of garbage. Read with `get`s only (see event-reads.ts).
 */
function checkStructures(events: StoreDatabases['events'], path: string): void {
  let problem: string;
  try {
    const raw = events.getBinary(STRUCTURES_KEY as unknown as number);
    if (raw === undefined) {
      // A new store. (The entry count comes from the database's record, not from its pages.)
      if ((events.getStats() as { entryCount: number }).entryCount === 0) return;
      problem = 'its msgpack record structures are missing, though it holds events';
    } else {
      const structures: unknown = (events as unknown as { decoder: { decode(bytes: Uint8Array): unknown } }).decoder.decode(raw);
      if (Array.isArray(structures) && structures.every((keys) => Array.isArray(keys) && keys.every((key) => typeof key === 'string')))
        return;
      problem = 'its msgpack record structures do not decode to lists of keys';
    }
  } catch (error) {
    problem = `its msgpack record structures cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  }
  throw damaged(path, problem);
}

/**
 * Commits the envelope's record structure before any event uses it. Otherwise the first append
 * would save it inside its own transaction, and if that commit failed the encoder would keep
 * believing in a structure the database never got, writing events nobody could decode. Encoding
 * a sample loads the stored structures first, so this writes only in a new data directory.
 */
function saveEnvelopeStructure(events: StoreDatabases['events']): void {
  const sample: StoredEvent = {
    position: 0,
    stream: '',
    seq: 0,
    id: '',
    type: '',
    data: EMPTY_VALUE,
    timestamp: 0,
    metadata: {},
    previous: 0,
  };
  const encoder = (events as unknown as { encoder: { encode(value: unknown): Uint8Array } }).encoder;
  envelopeBeingEncoded = sample;
  try {
    encoder.encode(sample);
  } finally {
    envelopeBeingEncoded = undefined;
  }
}
