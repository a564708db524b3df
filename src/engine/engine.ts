/**
 * The engine: routes each command to the worker that owns its aggregate, and answers once the
 * command's events are durable. See "The life of a command" in docs/architecture.md.
 *
 * @example
 *   const engine = await Engine.start({ modules: './modules', data: './data' });
 *   const { events } = await engine.execute('counter', 'abc123', 'Increment', { amount: 10 });
 *   await engine.stop();
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { streamName } from '../aggregate-name.js';
import { ThaloError, deserializeError } from '../errors.js';
import { normalizePayload, unpackValue } from '../json-values.js';
import { openStore, validateStreamName } from '../store/index.js';
import type { OpenedStore } from '../store/index.js';
import type { ListStreamsOptions, ReadAllOptions, ReadStreamOptions, StreamEntry } from '../store/types.js';
import { decodeEvent } from '../protocol/decode-event.js';
import type { CommandMessage, CommitUse, GuestLogMessage, WorkerConfig } from '../protocol/messages.js';
import { ProgressBoard } from '../protocol/progress-board.js';
import type { EventLog } from '../protocol/event-log.js';
import type { AggregateStateAt } from '../protocol/http.js';
import { ModuleRegistry } from './module-registry.js';
import type { LoadedModule, RefusedModule } from './module-registry.js';
import { checkEngineOptions, checkExecuteOptions } from './options.js';
import type { EngineSettings } from './options.js';
import { ShardDispatcher } from './shard-dispatcher.js';
import { ShardRouter, shardOf } from './shard-router.js';
import type { EngineOptions, ExecuteOptions, ExecuteResult, ExecutedEvent } from './types.js';

/**
 * The worker entry, and what its thread needs to run it. Built, it is the compiled file beside
 * this one, and the worker inherits this process's Node options as Node itself hands them on:
 * passed explicitly, `process.execArgv` would make Piscina's `new Worker` throw
 * ERR_WORKER_INVALID_EXEC_ARGV for the V8 and per-process flags a worker cannot take, which users
 * do set (`node --max-old-space-size=4096 app.js`). Run from the sources (under vitest this file
 * is `src/engine/engine.ts`), it is the worker's own source, loaded through tsx: a test then runs
 * the worker code it claims to test, not whatever `dist/` held since the last build.
 */
function workerEntry(): { filename: string; execArgv?: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // A worker refuses `--input-type` (a script given with `-e`), which only the main script needs.
    const inherited = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    return { filename: new URL('../../workers/aggregate-worker.ts', here).href, execArgv: [...inherited, '--import', 'tsx'] };
  }
  return { filename: new URL('../../workers/aggregate-worker.js', here).href };
}

/**
 * The young generation of each worker's heap, in MiB (V8 splits it into two semi-spaces of a
 * third each). A batch of 2,000 commands allocates about 10 MiB that mostly dies when the batch
 * replies; with V8's default for a worker (48 MiB here) a scavenge lands inside nearly every batch
 * and copies everything the batch still holds. `npm run bench:worker` (a worker's batch path in a
 * worker thread with these limits), in alternating runs on the 2-core machine: 22.4–23.6 µs of
 * CPU per command by default, 21.5–23.0 with 48, 14.0–15.1 with 96, 16.2–16.8 with 192, 16.7–18.0
 * with 384. The engine, 400,000 commands, 3 alternating runs each: 1 worker 40k–48k → 46k–55k
 * commands/s, 2 workers 53k–65k → 60k–65k. The cost is memory: up to this much more per worker.
 */
export const WORKER_YOUNG_GENERATION_MB = 96;

export class Engine {
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly commitListeners = new Set<(position: number) => void>();
  private readonly workerErrorListeners = new Set<(error: unknown) => void>();
  private readonly closeListeners = new Set<() => Promise<void> | void>();
  private stopWatching = (): void => undefined;
  private readonly cacheUse = { hits: 0, misses: 0 };
  private readonly commitUse: CommitUse = { count: 0, appends: 0, seconds: 0 };
  private staleRetryCount = 0;

  private constructor(
    readonly options: EngineSettings,
    private readonly store: OpenedStore,
    private readonly registry: ModuleRegistry,
    private readonly workerData: WorkerConfig,
    private readonly pool: Piscina,
    private readonly dispatcher: ShardDispatcher,
    /** Module files that failed validation at start. */
    readonly refusedModules: RefusedModule[],
  ) {}

  static async start(options: EngineOptions = {}): Promise<Engine> {
    const settings = checkEngineOptions(options, availableParallelism());
    const store = await openStore(settings.location, {
      role: 'owner',
      durability: settings.durability,
      idempotencyWindowMs: settings.idempotencyWindowMs,
    });
    try {
      const registry = new ModuleRegistry(settings.modules, {
        validationTimeoutMs: settings.moduleValidationTimeoutMs,
        maxMemoryBytes: settings.maxGuestMemoryBytes,
      });
      const refused = await registry.loadAll();
      const router = new ShardRouter(settings.workers);
      const { buffer, origin } = ProgressBoard.create(settings.workers);
      const workerData: WorkerConfig = {
        store: settings.location,
        durability: settings.durability,
        idempotencyWindowMs: settings.idempotencyWindowMs,
        modules: registry.refs(),
        cacheSize: settings.cacheSize,
        snapshotEvery: settings.snapshotEvery,
        maxPayloadBytes: settings.maxPayloadBytes,
        maxEventsPerCommand: settings.maxEventsPerCommand,
        maxEventBytes: settings.maxEventBytes,
        maxMetadataBytes: settings.maxMetadataBytes,
        progress: buffer,
        progressOrigin: origin,
      };
      const pool = new Piscina({
        ...workerEntry(),
        minThreads: settings.workers,
        maxThreads: settings.workers,
        idleTimeout: Infinity,
        // The worker awaits LMDB commits inside its tasks; 'sync' would park its event loop in
        // Atomics.wait between tasks and stall lmdb-js's commit callbacks until the next task arrives.
        atomics: 'async',
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        workerData,
        loadBalancer: (task, workers) => router.balance(task, workers),
      });
      if (options.onGuestLog) {
        const onGuestLog = options.onGuestLog;
        pool.on('message', (message: GuestLogMessage) => {
          if (message?.type === 'guest-log') onGuestLog(message.level, message.message, message.module);
        });
      }
      let engine: Engine | undefined;
      const dispatcher = new ShardDispatcher(pool, router, new ProgressBoard(buffer, origin), {
        commandTimeoutMs: settings.commandTimeoutMs,
        onCommit: (position) => engine?.notifyCommit(position),
        onCacheUse: (hits, misses) => {
          if (!engine) return;
          engine.cacheUse.hits += hits;
          engine.cacheUse.misses += misses;
        },
        onStaleRetries: (count) => {
          if (engine) engine.staleRetryCount += count;
        },
        onCommits: (commits) => {
          if (!engine) return;
          engine.commitUse.count += commits.count;
          engine.commitUse.appends += commits.appends;
          engine.commitUse.seconds += commits.seconds;
        },
        onWorkerError: (error) => (engine ? engine.notifyWorkerError(error) : warnWorkerError(error)),
      });
      engine = new Engine(settings, store, registry, workerData, pool, dispatcher, refused);
      // A store shared by several processes tells of their commits too (PostgreSQL's notices).
      const started = engine;
      if (store.watchCommits) started.stopWatching = store.watchCommits((position) => started.notifyCommit(position));
      return started;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /**
   * Execute `command` on aggregate `aggregate` with id `id`. Resolves once the events are durable;
   * rejects with a `ThaloError` (`COMMAND_REJECTED` for the aggregate's own rejection, with its
   * code in `data.code`).
   */
  async execute(
    aggregate: string,
    id: string,
    command: string,
    payload: unknown = {},
    options: ExecuteOptions = {},
  ): Promise<ExecuteResult> {
    if (this.stopping) throw new ThaloError('ENGINE_STOPPED', 'the engine is stopping and accepts no new commands');
    const module = this.module(aggregate);
    const stream = streamOf(aggregate, id);
    if (typeof command !== 'string' || !module.commands.has(command)) {
      throw new ThaloError(
        'UNKNOWN_COMMAND',
        `aggregate "${aggregate}" has no command ${JSON.stringify(command)} (it has: ${module.description.commands.join(', ')})`,
        {
          data: { aggregate, command },
        },
      );
    }
    checkExecuteOptions(options, this.options.maxMetadataBytes);
    // A plain copy: a payload that breaks the value rule fails here, alone, and what travels to
    // the worker can always be cloned (a function in one payload once failed a whole batch).
    const message: CommandMessage = { aggregate, id, stream, command, payload: normalizePayload(payload, 'payload') };
    if (options.expectedVersion !== undefined) message.expected = options.expectedVersion;
    if (options.commandId !== undefined) message.commandId = options.commandId;
    if (options.correlationId !== undefined) message.correlationId = options.correlationId;
    if (options.causationId !== undefined) message.causationId = options.causationId;
    if (options.headers !== undefined) message.headers = options.headers;
    return this.dispatcher.submit(shardOf(aggregate, id, this.options.workers), message);
  }

  /** The events of one aggregate, decoded. */
  async readStream(aggregate: string, id: string, options: ReadStreamOptions = {}): Promise<ExecutedEvent[]> {
    this.module(aggregate);
    return (await this.store.readStream(streamOf(aggregate, id), options)).map(decodeEvent);
  }

  /** The global log from a position, decoded. */
  async readAll(options: ReadAllOptions = {}): Promise<ExecutedEvent[]> {
    return (await this.store.readAll(options)).map(decodeEvent);
  }

  /** The position of the last event in the log; 0 when it is empty. */
  async lastPosition(): Promise<number> {
    return await this.store.lastPosition();
  }

  /**
   * Whether the store answers: always for LMDB; for PostgreSQL, whether its connection holds
   * (while it does not, commands fail with `STORE_UNAVAILABLE` and the store reconnects).
   */
  storeHealth(): { available: boolean; error?: string } {
    return this.store.health?.() ?? { available: true };
  }

  /** Streams by name with their versions, a page at a time (the store's `listStreams`). */
  listStreams(options: ListStreamsOptions): Promise<StreamEntry[]> {
    return this.store.listStreams(options);
  }

  /**
   * The state of aggregate `id` after its events up to seq `at` (default: all of them), as its
   * module's snapshot decodes. Rebuilt from the events in a fresh guest state by the worker that
   * owns the aggregate, after the commands submitted before (workers/state-at.ts); the cached
   * state is left alone. Fails with `SNAPSHOTS_UNSUPPORTED` when the module exports no
   * `thalo_snapshot`, since a state inside the guest cannot be shown otherwise.
   *
   * @example
   *   const { seq, state } = await engine.stateAt('counter', 'abc123', 2);   // { seq: 2, state: { count: 3 } }
   */
  async stateAt(aggregate: string, id: string, at?: number): Promise<AggregateStateAt> {
    if (this.stopping) throw new ThaloError('ENGINE_STOPPED', 'the engine is stopping');
    const module = this.module(aggregate);
    const stream = streamOf(aggregate, id);
    if (at !== undefined && (!Number.isSafeInteger(at) || at < 0)) {
      throw new ThaloError('INVALID_ARGUMENT', `at must be an integer >= 0, got ${String(at)}`);
    }
    if (!module.supportsSnapshots) {
      throw new ThaloError(
        'SNAPSHOTS_UNSUPPORTED',
        `aggregate "${aggregate}" exports no thalo_snapshot, so its state cannot be shown (docs/abi.md)`,
        { data: { aggregate } },
      );
    }
    const reply = await this.dispatcher.stateAt(shardOf(aggregate, id, this.options.workers), {
      aggregate,
      id,
      stream,
      at: at ?? Number.MAX_SAFE_INTEGER,
    });
    if (!reply.ok) throw deserializeError(reply.error);
    const found: AggregateStateAt = { aggregate, id, stream, seq: reply.seq, version: reply.version, state: null };
    try {
      found.state = unpackValue(reply.state);
    } catch (error) {
      found.undecodable = {
        reason: error instanceof Error ? error.message : String(error),
        base64: Buffer.from(reply.state).toString('base64'),
      };
    }
    return found;
  }

  /**
   * Commands answered so far whose aggregate state the worker had cached (`hits`), and those whose
   * state it rebuilt from the store first (`misses`), all workers together.
   */
  cacheStats(): { hits: number; misses: number } {
    return { ...this.cacheUse };
  }

  /**
   * The store commits of commands so far, all workers together: how many, the appends (commands
   * with events) they held, and the seconds each took from the worker handing it to the store
   * until it was durable, its wait for the store's write lock included. On LMDB, where one commit
   * runs at a time, `seconds` over the wall clock is how busy the store's serial part was.
   */
  commitStats(): CommitUse {
    return { ...this.commitUse };
  }

  /**
   * Commands run again on a state rebuilt from the store because the cached one was stale: another
   * process (a cluster node) appended to the stream since the worker cached it.
   */
  staleRetries(): number {
    return this.staleRetryCount;
  }

  modules(): LoadedModule[] {
    return this.registry.list();
  }

  /**
   * Validate a module file and serve it as aggregate `<stem>`, replacing a previous version:
   * commands already submitted finish on the version their worker had; later ones run on the new
   * one. A module that fails validation throws `MODULE_INVALID` and the previous version keeps
   * serving.
   */
  async loadModule(file: string): Promise<LoadedModule> {
    if (this.stopping) throw new ThaloError('ENGINE_STOPPED', 'the engine is stopping');
    const loaded = await this.registry.load(file);
    await this.publishModules();
    return loaded;
  }

  /** Stop serving an aggregate. Returns false if it was not loaded. */
  async unloadModule(name: string): Promise<boolean> {
    if (!this.registry.remove(name)) return false;
    await this.publishModules();
    return true;
  }

  private async publishModules(): Promise<void> {
    const modules = this.registry.refs();
    // Piscina hands the same workerData object to every worker it starts, so a worker that
    // replaces a dead one starts with the current modules, not the ones of the engine's start.
    this.workerData.modules = modules;
    await this.dispatcher.broadcast({ type: 'load-modules', modules });
  }

  /** Commands waiting or running, per shard. */
  queueDepths(): number[] {
    return this.dispatcher.queueDepths();
  }

  /** Call `listener` with the last global position each time events are committed. Returns the unsubscribe function. */
  onCommit(listener: (position: number) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /**
   * Call `listener` with the error of a worker thread that failed while no command of it was in
   * flight; the engine has replaced it and lost no command. Without a listener the error becomes a
   * process warning. Returns the unsubscribe function.
   */
  onWorkerError(listener: (error: unknown) => void): () => void {
    this.workerErrorListeners.add(listener);
    return () => this.workerErrorListeners.delete(listener);
  }

  /**
   * The log as its consumers see it: reads from a position, the head, checkpoints, and notices of
   * commits and of the close. Projections, relays and the HTTP API's subscriptions are built on
   * it by whoever wires the process (`Consumers` in `src/projections/`); the engine runs none.
   *
   * @example
   *   const consumers = new Consumers(engine.log);
   *   consumers.project('audit', (events) => { for (const e of events) console.log(e.position) });
   */
  readonly log: EventLog = {
    readAll: (options) => this.store.readAll(options),
    lastPosition: () => this.store.lastPosition(),
    getCheckpoint: (name) => this.store.getCheckpoint(name),
    setCheckpoint: (name, position) => this.store.setCheckpoint(name, position),
    advanceCheckpoint: (name, position) => this.store.advanceCheckpoint(name, position),
    deleteCheckpoint: (name) => this.store.deleteCheckpoint(name),
    listCheckpoints: (prefix) => this.store.listCheckpoints(prefix),
    onCommit: (listener) => this.onCommit(listener),
    onClose: (listener) => {
      this.closeListeners.add(listener);
      return () => this.closeListeners.delete(listener);
    },
  };

  /** Refuse new commands, let the ones in flight finish, then close the workers and the store. */
  stop(): Promise<void> {
    this.stopping = true;
    this.stopped ??= (async () => {
      await this.dispatcher.drain();
      // The log's consumers stop here, each storing its last checkpoint while the store is open.
      await Promise.all([...this.closeListeners].map((listener) => listener()));
      // Let each worker close its store before its thread goes: terminating a thread in the
      // middle of an LMDB call (it may still be opening the environment) is best avoided.
      await this.dispatcher.broadcast({ type: 'close' }).catch(() => undefined);
      this.dispatcher.close();
      await this.pool.destroy();
      this.stopWatching();
      await this.store.close();
    })();
    return this.stopped;
  }

  private notifyWorkerError(error: unknown): void {
    if (this.workerErrorListeners.size === 0) warnWorkerError(error);
    for (const listener of this.workerErrorListeners) listener(error);
  }

  private notifyCommit(position: number): void {
    for (const listener of this.commitListeners) listener(position);
  }

  private module(aggregate: string): LoadedModule {
    const module = typeof aggregate === 'string' ? this.registry.get(aggregate) : undefined;
    if (!module) {
      throw new ThaloError('AGGREGATE_NOT_FOUND', `no module is loaded for aggregate ${JSON.stringify(aggregate)}`, {
        data: { aggregate },
      });
    }
    return module;
  }
}

/** How a worker failure is reported when nobody listens: Node's warning channel, not a crash. */
function warnWorkerError(error: unknown): void {
  process.emitWarning(
    `a Thalo worker thread failed outside a command and was replaced: ${error instanceof Error ? error.message : String(error)}`,
    {
      code: 'THALO_WORKER_FAILED',
    },
  );
}

/** The stream of an aggregate instance: `<aggregate>-<id>`. */
export function streamOf(aggregate: string, id: string): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ThaloError('INVALID_AGGREGATE_ID', `aggregate id must be a non-empty string, got ${JSON.stringify(id)}`, {
      data: { aggregate, id },
    });
  }
  const stream = streamName(aggregate, id);
  try {
    validateStreamName(stream);
  } catch (cause) {
    throw new ThaloError('INVALID_AGGREGATE_ID', `invalid id for aggregate "${aggregate}": ${(cause as Error).message}`, {
      data: { aggregate },
      cause,
    });
  }
  return stream;
}
