/**
 * The event store: an append-only log of events in LMDB, read by stream or as one global log.
 *
 * It implements `EventStoreContract` (contract.ts), the interface the rest of the runtime uses.
 *
 * Every thread that uses a data directory opens its own `EventStore` on it (lmdb-js shares one
 * LMDB environment between the threads of a process); the process that owns the directory opens
 * it with the writer lock, its worker threads with `lock: false`. Writes from all of them go
 * through LMDB's single write transaction at a time, which is what makes positions dense and
 * expected versions exact (see append-transaction.ts).
 *
 * @example
 *   const store = EventStore.open({ path: './data' });
 *   const { events } = await store.append('counter-1', [{ type: 'Incremented', data: pack({ by: 1 }) }], { expected: 'no_stream' });
 *   store.readStream('counter-1');          // [{ position: 1, stream: 'counter-1', seq: 1, ... }]
 *   await store.close();
 */
import { mkdirSync } from 'node:fs';
import { ThaloError, isThaloError } from '../errors.js';
import type { EventStoreContract } from './contract.js';
import { GroupCommit, appendEach, appendOne } from './append-requests.js';
import { applyRequests, duplicateResult, findCommandRecord, readLastPosition } from './append-transaction.js';
import { openDatabases } from './databases.js';
import type { StoreDatabases } from './databases.js';
import { readEvents, readSnapshot } from './event-reads.js';
import { DirectoryLock } from './lock.js';
import { listStreams, readBackward, readForward, readHead } from './stream-index.js';
import { validateStreamName } from './stream-name.js';
import {
  checkCheckpointName,
  checkCount,
  checkListStreamsOptions,
  checkReadAllOptions,
  checkReadStreamOptions,
  checkSnapshot,
  checkStoreOptions,
} from './validation.js';
import type { StoreSettings } from './validation.js';
import { writeFailure } from './write-failure.js';
import type {
  AppendOptions,
  AppendRequest,
  AppendResult,
  BatchAppendOutcome,
  CheckpointEntry,
  EventStoreOptions,
  ListStreamsOptions,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StoredEvent,
  StreamEntry,
} from './types.js';

/**
 * With `commitOnThread`, the largest transaction (in appends) committed on the calling thread.
 * Larger ones go through lmdb-js's write thread: measured with 2 workers and 2,000 commands in
 * flight (bench/engine.ts), committing their commits of hundreds on the worker's own thread cost
 * about 15% of the commands/s, while a commit of a few saves three hand-overs between threads.
 */
const ON_THREAD_MAX_REQUESTS = 16;

/** How often (at most) an append transaction also deletes expired command ids, per store instance. */
const PRUNE_INTERVAL_MS = 1000;

export class EventStore implements EventStoreContract {
  private closed = false;
  private closing: Promise<void> | undefined;
  private lastPruneAt = 0;
  /** Transactions of this store handed to lmdb-js's write thread and not yet settled. */
  private queuedWrites = 0;
  /**
   * Appends made before this store's next write transaction starts all join one callback: lmdb-js
   * would group separate callbacks into one transaction as well, but each would then read the last
   * position again (a cursor: ~12% of an append's cost) and settle its own promises.
   */
  private readonly batches = new GroupCommit((requests, close) => {
    // A transaction that fails before its callback runs closes the batch too (GroupCommit).
    return this.commit(
      () => {
        // From here on, new appends go to the next transaction.
        close();
        const now = Date.now();
        const prune = now - this.lastPruneAt >= PRUNE_INTERVAL_MS;
        if (prune) this.lastPruneAt = now;
        return applyRequests(this.dbs, requests, { now, idempotencyWindowMs: this.settings.idempotencyWindowMs, prune });
      },
      () => requests.length,
    );
  });

  private constructor(
    private readonly dbs: StoreDatabases,
    private readonly settings: StoreSettings,
    private readonly lock: DirectoryLock | undefined,
  ) {}

  /**
   * Opens the store in `options.path` (created when missing). Synchronous, so a worker thread can
   * open it at module load. Throws `STORE_LOCKED` when another process holds the directory.
   */
  static open(options: EventStoreOptions): EventStore {
    const settings = checkStoreOptions(options);
    mkdirSync(settings.path, { recursive: true });
    const lock = settings.lock ? DirectoryLock.acquire(settings.path) : undefined;
    try {
      return new EventStore(openDatabases(settings.path), settings, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** The data directory. */
  get path(): string {
    return this.settings.path;
  }

  /**
   * Appends `events` to `stream`, all or none, and resolves with them as stored, once they are
   * on disk. Rejects with `WRONG_EXPECTED_VERSION` when the stream is not as
   * `options.expected` says, and appends nothing. With `options.commandId` seen before (within
   * the idempotency window), appends nothing and resolves with the original events and
   * `duplicate: true`. An empty `events` only checks the expectation.
   */
  async append(stream: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    return appendOne(stream, events, options, this.settings.limits, (requests) => this.batches.add(requests));
  }

  /**
   * Appends several requests in ONE write transaction (group commit); each succeeds or fails on
   * its own, and the outcomes come back in the order of `requests`. Requests to the same stream
   * see each other in order, so `expected` may count on the requests before it. Invalid requests
   * fail alone too. Rejects as a whole only when the commit itself fails (`STORE_FULL` when the
   * disk has no room, otherwise `STORE_WRITE_FAILED`), in which case nothing of it was written.
   */
  async appendBatch(requests: AppendRequest[]): Promise<BatchAppendOutcome[]> {
    this.assertOpen();
    return appendEach(requests, this.settings.limits, (prepared) => this.batches.add(prepared));
  }

  /**
   * The original append of `commandId`, as a duplicate append would return it, or undefined when
   * it is unknown or past the idempotency window. With `stream`, a command id recorded for another
   * stream throws `COMMAND_ID_REUSED` naming both, as an append would. A read: an append racing
   * with it decides.
   */
  findCommand(commandId: string, stream?: string): AppendResult | undefined {
    this.beginRead();
    if (typeof commandId !== 'string') throw new ThaloError('INVALID_ARGUMENT', 'commandId must be a string');
    const record = findCommandRecord(this.dbs, commandId, Date.now(), this.settings.idempotencyWindowMs);
    return record === undefined ? undefined : duplicateResult(this.dbs, commandId, record, stream ?? record[0]);
  }

  /**
   * Events of `stream` by seq: from `from` (default 1, or the last when `backwards`), at most
   * `limit`. An unknown stream reads as empty.
   */
  readStream(stream: string, options: ReadStreamOptions = {}): StoredEvent[] {
    this.beginRead();
    validateStreamName(stream);
    const { from, limit, backwards, maxBytes } = checkReadStreamOptions(options);
    if (limit === 0) return [];
    return backwards ? readBackward(this.dbs, stream, from, limit, maxBytes) : readForward(this.dbs, stream, from ?? 1, limit, maxBytes);
  }

  /** The global log from position `from` (default 1), at most `limit` events. */
  readAll(options: ReadAllOptions = {}): StoredEvent[] {
    this.beginRead();
    const { from, limit, maxBytes } = checkReadAllOptions(options);
    const out: StoredEvent[] = [];
    if (limit === 0) return out;
    let bytes = 0;
    readEvents(this.dbs, from, limit, (event) => {
      bytes += event.data.length;
      if (bytes > maxBytes && out.length > 0) return false;
      out.push(event);
      return true;
    });
    return out;
  }

  /** The position of the last event in the log; 0 when it is empty. */
  lastPosition(): number {
    this.beginRead();
    return readLastPosition(this.dbs);
  }

  /** The seq of `stream`'s last event; 0 when it has none. */
  streamVersion(stream: string): number {
    this.beginRead();
    validateStreamName(stream);
    return readHead(this.dbs, stream).seq;
  }

  /**
   * Streams by name, with their versions (see `EventStoreContract.listStreams`).
   *
   * @example
   *   await store.listStreams({ prefix: 'counter-', limit: 2 });   // [{ stream: 'counter-a', version: 3 }, …]
   */
  async listStreams(options: ListStreamsOptions): Promise<StreamEntry[]> {
    this.beginRead();
    const { prefix, after, limit } = checkListStreamsOptions(options);
    return listStreams(this.dbs, prefix, after, limit);
  }

  /** The position a subscriber stored under `name`, if any. */
  getCheckpoint(name: string): number | undefined {
    this.beginRead();
    checkCheckpointName(name);
    return this.dbs.checkpoints.get(name);
  }

  /** Stores `position` as subscriber `name`'s checkpoint (durably, like an append). */
  async setCheckpoint(name: string, position: number): Promise<void> {
    this.assertOpen();
    checkCheckpointName(name);
    checkCount(position, 'position');
    await this.commit(() => this.dbs.checkpoints.put(name, position));
  }

  /**
   * Removes checkpoint `name` (durably, like an append) and resolves with whether there was one.
   * A consumer that starts again under that name starts from scratch.
   */
  async deleteCheckpoint(name: string): Promise<boolean> {
    this.assertOpen();
    checkCheckpointName(name);
    return this.commit(() => {
      if (this.dbs.checkpoints.get(name) === undefined) return false;
      this.dbs.checkpoints.remove(name);
      return true;
    });
  }

  /**
   * Moves subscriber `name`'s checkpoint forward to `position` and resolves with the checkpoint
   * now stored (durably). A position at or below the stored one changes nothing: acks that arrive
   * out of order, or a retried old ack, never move a checkpoint back. The comparison runs inside
   * the write transaction, so two concurrent calls cannot both read the old value and let the
   * smaller one land last.
   */
  async advanceCheckpoint(name: string, position: number): Promise<number> {
    this.assertOpen();
    checkCheckpointName(name);
    checkCount(position, 'position');
    return this.commit(() => {
      const current = this.dbs.checkpoints.get(name);
      if (current !== undefined && current >= position) return current;
      this.dbs.checkpoints.put(name, position);
      return position;
    });
  }

  /**
   * Every checkpoint whose name starts with `prefix` (default: all of them), in name order.
   * Names sharing a prefix are contiguous in LMDB's byte order, so this reads only those.
   *
   * @example
   *   store.listCheckpoints('subscriber:');   // [{ name: 'subscriber:billing', position: 41 }]
   */
  listCheckpoints(prefix = ''): CheckpointEntry[] {
    this.beginRead();
    if (typeof prefix !== 'string') throw new ThaloError('INVALID_ARGUMENT', 'prefix must be a string');
    const out: CheckpointEntry[] = [];
    const range = prefix === '' ? {} : { start: prefix };
    for (const { key, value } of this.dbs.checkpoints.getRange(range)) {
      if (!key.startsWith(prefix)) break;
      out.push({ name: key, position: value });
    }
    return out;
  }

  /**
   * The latest snapshot of `stream`, if any. A damaged one (failed checksum, unreadable) reads as
   * none: a snapshot only saves replaying the stream's events, and the next one replaces it.
   */
  getSnapshot(stream: string): Snapshot | undefined {
    this.beginRead();
    validateStreamName(stream);
    return readSnapshot(this.dbs, stream);
  }

  /**
   * Stores `snapshot` as `stream`'s latest (replacing the previous one). Its seq may not be past
   * the stream's version. To store a snapshot together with the events it includes, put it on the
   * append request instead (`AppendRequest.snapshot`).
   */
  async putSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    validateStreamName(stream);
    const checked = checkSnapshot(snapshot);
    await this.commit(() => {
      const version = readHead(this.dbs, stream).seq;
      if (checked.seq > version) {
        throw new ThaloError('INVALID_ARGUMENT', `snapshot.seq ${checked.seq} is past stream "${stream}", which is at version ${version}`, {
          data: { stream, seq: checked.seq, version },
        });
      }
      this.dbs.snapshots.put(stream, checked);
    });
  }

  /** Waits for writes in flight, closes this thread's handle and releases the lock (if held). */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      try {
        // A commit on this thread (commitOnThread) asked for before the close starts at the next
        // microtask, ahead of this one: it runs whole before the environment closes.
        if (this.settings.commitOnThread) await null;
        await this.dbs.root.close();
      } finally {
        this.lock?.release();
      }
    })();
    return this.closing;
  }

  /**
   * Runs `work` in a write transaction and resolves once the transaction is committed, which in
   * this environment means synced: see `openDatabases` for why that holds and why the store does
   * not use lmdb-js's default `overlappingSync`. `requests` says how many appends the transaction
   * will hold, read as it starts (1 when not given).
   *
   * With `commitOnThread`, a small one commits on this thread (see the option), but never while a
   * transaction of this store waits in lmdb-js's write thread: that thread may hold LMDB's write
   * lock while it waits for this one to run its callback, and this one would wait for the lock.
   */
  private async commit<T>(work: () => T, requests?: () => number): Promise<T> {
    try {
      if (this.settings.commitOnThread) {
        // From the next microtask on: the appends of the code running now join this transaction.
        await null;
        if (this.queuedWrites === 0 && (requests?.() ?? 1) <= ON_THREAD_MAX_REQUESTS) return this.dbs.root.transactionSync(work);
      }
      this.queuedWrites++;
      try {
        return await this.dbs.root.transaction(work);
      } finally {
        this.queuedWrites--;
      }
    } catch (error) {
      if (isThaloError(error)) throw error;
      // STORE_FULL or STORE_WRITE_FAILED; it also handles lmdb-js's `commitError` (see there).
      throw await writeFailure(error, this.settings.path);
    }
  }

  /**
   * Every read starts from a fresh snapshot. lmdb-js otherwise keeps a thread's read transaction
   * until a `setTimeout(0)`, so a read made in the same turn as an earlier one, e.g. on a commit
   * notice from a worker thread, would not see that worker's commit. Renewing costs about a
   * microsecond, and it gives the rule readers can count on: a read sees every append whose
   * promise resolved before the read began, in any thread.
   */
  private beginRead(): void {
    this.assertOpen();
    this.dbs.root.resetReadTxn();
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ThaloError('STORE_CLOSED', `the event store in ${this.settings.path} is closed`, { data: { path: this.settings.path } });
  }
}
