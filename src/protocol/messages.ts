/**
 * The messages between the engine (main thread) and its aggregate workers, in one place so both
 * sides read the protocol from the same file. The worker never imports the engine itself.
 */
import type { SerializedError } from '../errors.js';
import type { Durability, ExpectedVersion } from '../store/types.js';
import type { StoreLocation } from '../store/open-store.js';
import type { ExecutedEvent } from './commands.js';
import type { ModuleFacts } from '../wasm/types.js';

/**
 * A module the workers should serve. `version` grows each time the file is reloaded; `compiled`
 * is what the main thread validated, so workers never re-read a file that may have changed since,
 * and `facts` what validation learned, so workers run none of the module's code to learn it again.
 */
export interface ModuleRef {
  name: string;
  file: string;
  version: number;
  compiled: WebAssembly.Module;
  facts: ModuleFacts;
}

/** Given once to every worker (Piscina's `workerData`). */
export interface WorkerConfig {
  /** The store the engine opened; the worker opens its own handle on it. */
  store: StoreLocation;
  durability: Durability;
  idempotencyWindowMs: number;
  modules: ModuleRef[];
  cacheSize: number;
  snapshotEvery: number;
  maxPayloadBytes: number;
  maxEventsPerCommand: number;
  maxEventBytes: number;
  maxMetadataBytes: number;
  /** Progress slots shared with the engine's watchdog; see `ProgressBoard`. */
  progress: SharedArrayBuffer;
  progressOrigin: number;
}

/** One command as it travels to its worker. */
export interface CommandMessage {
  aggregate: string;
  id: string;
  stream: string;
  command: string;
  payload: unknown;
  expected?: ExpectedVersion;
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  headers?: Record<string, string>;
}

/**
 * A batch of commands for one shard's worker. The commands travel as ONE msgpack buffer,
 * transferred (src/protocol/batch-codec.ts); the worker answers with the `ExecuteBatchReply`
 * encoded the same way, as a bare `Uint8Array` (`EncodedBatchReply`).
 */
export interface ExecuteBatchTask {
  type: 'execute-batch';
  shard: number;
  /** Increments per task of a shard, so the watchdog can tell tasks apart. */
  seq: number;
  /** `CommandMessage[]`, encoded by `encodeCommands`. */
  commands: Uint8Array;
}

/** An `ExecuteBatchTask` as the worker runs it, its commands decoded. */
export interface ExecuteBatch {
  shard: number;
  seq: number;
  commands: CommandMessage[];
}

export interface LoadModulesTask {
  type: 'load-modules';
  shard: number;
  modules: ModuleRef[];
}

/** The engine is stopping: close the worker's store before the thread is terminated. */
export interface CloseTask {
  type: 'close';
  shard: number;
}

/**
 * Rebuild `stream` (aggregate `aggregate`, id `id`) up to seq `at` in a fresh guest state and
 * answer its snapshot: the console's time travel. The cached state is neither read nor changed.
 * `seq` is the dispatcher's task number, marked on the progress board so that the watchdog stops
 * a guest that never returns, as it does for a command.
 */
export interface StateAtTask {
  type: 'state-at';
  shard: number;
  seq: number;
  aggregate: string;
  id: string;
  stream: string;
  at: number;
}

export type WorkerTask = ExecuteBatchTask | LoadModulesTask | CloseTask | StateAtTask;

export type CommandReply =
  { ok: true; version: number; events: ExecutedEvent[]; duplicate: boolean } | { ok: false; error: SerializedError };

/**
 * What a batch's worker answers, encoded by `encodeBatchReply` into the `EncodedBatchReply` that
 * crosses. New fields (a count, a flag) cross as they are: the encoding carries any field.
 */
export interface ExecuteBatchReply {
  type: 'batch-result';
  replies: CommandReply[];
  /** The global position of the last event committed by this batch, 0 if none. */
  lastPosition: number;
  /** Commands of the batch whose aggregate state was in the worker's cache, and those whose state had to be rebuilt. */
  cache: { hits: number; misses: number };
  /**
   * Commands of the batch run again on a state rebuilt from the store because the cached one
   * turned out stale (an expected-version check or a commit conflict against a cached state).
   */
  staleRetries: number;
  /** The store commits this batch waited for (see `CommitUse`). */
  commits: CommitUse;
}

/**
 * Store commits as a worker saw them: how many, the appends they held, and the seconds from
 * handing each to the store until it was durable (its wait for the store's write lock included).
 * LMDB lets one commit in at a time, so their time, next to the wall clock, says how much of it
 * the store's serial part takes.
 */
export interface CommitUse {
  count: number;
  appends: number;
  seconds: number;
}

export interface LoadModulesReply {
  type: 'modules-loaded';
  errors: { name: string; error: SerializedError }[];
}

export interface ClosedReply {
  type: 'closed';
}

/** The state of a `StateAtTask`: the module's snapshot bytes after the events up to `seq`. */
export type StateAtReply = { type: 'state-at'; ok: false; error: SerializedError } | StateAtFound;

export interface StateAtFound {
  type: 'state-at';
  ok: true;
  /** The seq the state includes: `at`, or the stream's version when `at` is past it. */
  seq: number;
  /** The stream's version when the rebuild read it. */
  version: number;
  state: Uint8Array;
}

/** An `ExecuteBatchReply` as it crosses: one msgpack buffer (src/protocol/batch-codec.ts). */
export type EncodedBatchReply = Uint8Array;

export type WorkerReply = EncodedBatchReply | LoadModulesReply | ClosedReply | StateAtReply;

/** Posted by a worker outside any task: a guest's `thalo.log` line. */
export interface GuestLogMessage {
  type: 'guest-log';
  level: number;
  message: string;
  module: string;
}
