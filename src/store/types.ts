/**
 * The event store's public types: the values that `EventStoreContract` (contract.ts) takes and
 * returns, whatever the store; `src/store/event-store.ts` implements it on LMDB.
 */
import type { ExpectedVersion } from '../expected-version.js';

/** Free-form metadata carried by every stored event. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  commandId?: string;
  headers?: Record<string, string>;
}

/** An event to append. `data` is msgpack bytes, stored exactly as given. */
export interface NewEvent {
  type: string;
  data: Uint8Array;
  metadata?: EventMetadata;
  /** Event id (UUID); generated when absent. */
  id?: string;
}

/** An event as stored: its place in its stream (`seq`, from 1) and in the global log (`position`, from 1). */
export interface StoredEvent {
  position: number;
  stream: string;
  seq: number;
  id: string;
  type: string;
  data: Uint8Array;
  /** Milliseconds since the epoch, taken when the event was appended. */
  timestamp: number;
  metadata: EventMetadata;
  /**
   * The position of the stream's event before this one, 0 for its first: the chain that stream
   * reads follow (see stream-index.ts). Absent on events stored before the chain existed.
   */
  previous?: number;
}

// The rule has one home (src/expected-version.ts); the store's API names the type too.
export type { ExpectedVersion };

export interface AppendOptions {
  expected?: ExpectedVersion;
  /**
   * Idempotency key. When an append with the same command id was committed before (within the
   * store's idempotency window), nothing is appended and the original events are returned with
   * `duplicate: true`. Recorded in the same transaction as the events.
   */
  commandId?: string;
}

export interface AppendRequest extends AppendOptions {
  stream: string;
  events: NewEvent[];
  /**
   * A snapshot to store in the same transaction, only if this request succeeds (and is not a
   * duplicate). Its seq may not be past the stream's version after the append.
   */
  snapshot?: Snapshot;
  /**
   * In `appendBatch`: this request was decided on the state that the batch's previous request to
   * the same stream leaves. When that request appended nothing (it failed, or was a duplicate),
   * this one fails too with `WRONG_EXPECTED_VERSION`, appending nothing, even where its
   * `expected` happens to match the stream: its events were computed on a state the stream never
   * had. A worker sets it on the second and later commands of one aggregate in a batch.
   */
  afterPrevious?: boolean;
}

export interface AppendResult {
  stream: string;
  /** The stream's last seq after this append. */
  version: number;
  events: StoredEvent[];
  /** True when the command id had been seen and nothing was appended. */
  duplicate: boolean;
}

/** One request's outcome in a group commit: each request succeeds or fails on its own. */
export type BatchAppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: import('../errors.js').ThaloError };

export interface ReadStreamOptions {
  /** First seq to read (inclusive). Default 1, or the last seq when backwards. */
  from?: number;
  limit?: number;
  backwards?: boolean;
  /** As `ReadAllOptions.maxBytes`. Default: no bound. */
  maxBytes?: number;
}

export interface ReadAllOptions {
  /** First global position to read (inclusive). Default 1. */
  from?: number;
  limit?: number;
  /**
   * Return no more events than hold this many bytes of data, except that a read returns at least
   * one event when there is one (even one larger than this). Default: no bound.
   */
  maxBytes?: number;
}

/** What `EventStoreContract.listStreams` lists: the streams whose names start with `prefix`, after `after`. */
export interface ListStreamsOptions {
  /** Only streams whose names start with this (default: all). */
  prefix?: string;
  /** Only streams whose names sort after this one (the last name of the page before). */
  after?: string;
  /** At most this many streams. */
  limit: number;
}

/** A stream as `EventStoreContract.listStreams` lists it. */
export interface StreamEntry {
  stream: string;
  /** The seq of its last event. */
  version: number;
}

/** A stored checkpoint, as `EventStoreContract.listCheckpoints` lists it. */
export interface CheckpointEntry {
  name: string;
  /** The last position the subscriber processed. */
  position: number;
}

export interface Snapshot {
  /** The stream seq the state includes. */
  seq: number;
  state: Uint8Array;
}

/**
 * `durable` (default): an append resolves only once its transaction is synced to disk.
 * `relaxed`: an opt-in that allows the store to resolve before the sync. Today it takes the same
 * commit path as `durable` (every commit of the store's LMDB environment syncs), so it is as
 * durable; docs/store.md says why and what a real no-sync mode would cost.
 */
export type Durability = 'durable' | 'relaxed';

/** What every store takes, whatever keeps its events. */
export interface CommonStoreOptions {
  durability?: Durability;
  /** How long command ids are remembered for idempotency, in ms (default 24 h). */
  idempotencyWindowMs?: number;
  /** Events one append request may add (`TOO_MANY_EVENTS` past it). Default 1,000. */
  maxEventsPerAppend?: number;
  /** Bytes of one event's data (`EVENT_TOO_LARGE` past it). Default 1 MiB. */
  maxEventBytes?: number;
  /** Bytes of one event's metadata, ids and headers as UTF-8 (`METADATA_TOO_LARGE` past it). Default 16 KiB. */
  maxMetadataBytes?: number;
}

/** The options of the LMDB store (`EventStore.open`). */
export interface EventStoreOptions extends CommonStoreOptions {
  /** The data directory (created if missing). */
  path: string;
  /**
   * Take the directory's writer lock (default true). The process that owns the directory takes
   * it once; its worker threads open the same directory with `lock: false`.
   */
  lock?: boolean;
  /**
   * Commit a small transaction (a few appends) on the calling thread, with LMDB's synchronous
   * transaction, instead of through lmdb-js's write thread (default false): it saves three
   * hand-overs between threads, about a third of a lone command's latency here (docs/store.md).
   * The appends made in one synchronous run of code still share one transaction. Only for a
   * thread that awaits each write before it starts the next, as the engine's workers do: a
   * synchronous commit waits for LMDB's write lock, which lmdb-js's write thread holds while it
   * waits for this thread to run an earlier transaction's callback.
   */
  commitOnThread?: boolean;
}
