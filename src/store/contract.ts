/**
 * What an event store promises, whatever keeps the events. The engine, the workers, projections,
 * relays and the server are written against this interface; only the code that opens a store
 * names its kind (`Engine.start` and the worker entry open `EventStore`, the LMDB store).
 *
 * Every promise below is checked by one shared suite, test/store/contract/, which every store
 * must pass unchanged (test/store/lmdb-contract.test.ts runs it against LMDB). A promise that
 * suite does not check is not part of the contract.
 *
 * A read answers with its value or with a promise of it (`Awaitable`): the LMDB store reads
 * memory-mapped pages in the calling thread and answers at once, which its hot paths (a worker
 * rebuilding an aggregate, a projection's catch-up) count on; the PostgreSQL store answers over
 * the network. Code written against the contract always awaits a read, so it runs on either; the
 * shared suite does the same.
 *
 * Errors are `ThaloError`s, checked by code (src/errors.ts). Every method of a closed store fails
 * with `STORE_CLOSED`, except `close` itself.
 *
 * @example
 *   async function countEvents(store: EventStoreContract, stream: string): Promise<number> {
 *     return await store.streamVersion(stream);
 *   }
 */
import type {
  AppendOptions,
  AppendRequest,
  AppendResult,
  BatchAppendOutcome,
  CheckpointEntry,
  ListStreamsOptions,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StoredEvent,
  StreamEntry,
} from './types.js';

/** A value, or a promise of it: what a read of the contract answers with. Await it. */
export type Awaitable<T> = T | Promise<T>;

export interface EventStoreContract {
  /**
   * Appends `events` to `stream`, all of them or none, and resolves with them as stored once
   * they are durable. Positions are dense (1, 2, 3 … with no gap) and in commit order, seqs
   * count each stream's events from 1, and appends made on one store handle without waiting
   * commit in the order they were made. `data` is stored byte for byte; an event without an id
   * gets a UUID; every event of one commit gets the commit time as `timestamp`.
   *
   * Fails, appending nothing, with `WRONG_EXPECTED_VERSION` (`data: { stream, expected, actual }`)
   * when the stream is not as `options.expected` says (`any`, the default; `no_stream`; `exists`;
   * or the exact seq of its last event, 0 for none); with `INVALID_STREAM_NAME`, `INVALID_EVENT`
   * or `INVALID_ARGUMENT` naming the field at fault; with `TOO_MANY_EVENTS`, `EVENT_TOO_LARGE` or
   * `METADATA_TOO_LARGE` past a limit. With a `commandId` committed before (within the
   * idempotency window) for this stream, appends nothing and resolves with the original result
   * and `duplicate: true`, whatever the events and `expected` say; for another stream it fails
   * with `COMMAND_ID_REUSED` naming both. Empty `events` only checks the expectation.
   */
  append(stream: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /**
   * Appends several requests in one commit and resolves with one outcome per request, in order.
   * Each request is all-or-nothing on its own, with the checks and errors of `append`: one
   * request's conflict, invalid event or limit fails that request alone. Requests to the same
   * stream see each other in order (`expected` may count on the requests before), and so does a
   * command id repeated in the batch. A request marked `afterPrevious` fails with
   * `WRONG_EXPECTED_VERSION`, appending nothing, when the batch's previous request to its stream
   * appended nothing (it failed or was a duplicate). A request's `snapshot` is stored only if
   * the request commits. Rejects as a whole only when the commit itself fails (`STORE_FULL`,
   * `STORE_WRITE_FAILED`), and then nothing of it was written.
   */
  appendBatch(requests: AppendRequest[]): Promise<BatchAppendOutcome[]>;

  /**
   * The result a duplicate append of `commandId` would resolve with (`duplicate: true`, the
   * original events), or undefined when the id is unknown or past the idempotency window. Given
   * `stream`, an id recorded for another stream fails with `COMMAND_ID_REUSED`, as the append
   * would.
   */
  findCommand(commandId: string, stream?: string): Awaitable<AppendResult | undefined>;

  /**
   * Events of `stream` in seq order: forwards from `from` (default 1), or backwards from `from`
   * (default the last seq); at most `limit`; and no more than hold `maxBytes` of data, but at
   * least one when there is one. An unknown stream, a `from` past the end or a `limit` of 0 read
   * as empty. A read sees every append that resolved before it began.
   */
  readStream(stream: string, options?: ReadStreamOptions): Awaitable<StoredEvent[]>;

  /** The global log from position `from` (default 1) in position order; `limit` and `maxBytes` as in `readStream`. */
  readAll(options?: ReadAllOptions): Awaitable<StoredEvent[]>;

  /** The position of the last event in the log; 0 when it is empty. */
  lastPosition(): Awaitable<number>;

  /** The seq of `stream`'s last event; 0 when it has none. */
  streamVersion(stream: string): Awaitable<number>;

  /**
   * The streams that have events, in name order (the order of their names' UTF-8 bytes), with
   * their versions: those whose names start with `options.prefix` and sort after `options.after`,
   * at most `options.limit`. A page ends where the next one starts: pass its last name as `after`.
   * Fails with `INVALID_ARGUMENT` naming the option at fault.
   */
  listStreams(options: ListStreamsOptions): Promise<StreamEntry[]>;

  /** The position stored under checkpoint `name`, or undefined when there is none. */
  getCheckpoint(name: string): Awaitable<number | undefined>;

  /** Stores `position` under `name`, durably, also when it is lower than the stored one (a reset). */
  setCheckpoint(name: string, position: number): Promise<void>;

  /**
   * Moves `name`'s checkpoint forward to `position` and resolves with the checkpoint now stored.
   * Never moves it back, also when calls race: of any set of concurrent calls, the highest
   * position is what stays.
   */
  advanceCheckpoint(name: string, position: number): Promise<number>;

  /** Every checkpoint whose name starts with `prefix` (default: all), in name order. */
  listCheckpoints(prefix?: string): Awaitable<CheckpointEntry[]>;

  /** Removes checkpoint `name`, durably; resolves with whether there was one. */
  deleteCheckpoint(name: string): Promise<boolean>;

  /** The latest snapshot stored for `stream`, or undefined (also when it was damaged: the events are the truth). */
  getSnapshot(stream: string): Awaitable<Snapshot | undefined>;

  /**
   * Stores `snapshot` as `stream`'s latest, durably. Fails with `INVALID_ARGUMENT` when its seq
   * is past the stream's version or its state is not bytes.
   */
  putSnapshot(stream: string, snapshot: Snapshot): Promise<void>;

  /**
   * Lets the writes in flight finish, then releases the store; every later use fails with
   * `STORE_CLOSED`. Calling it again resolves the same way. What was written stays: a store
   * opened again on the same data reads it all.
   */
  close(): Promise<void>;
}
