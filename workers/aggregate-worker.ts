/**
 * The aggregate worker: Piscina's entry for one shard's thread.
 *
 * It opens its own handle on the engine's store (for LMDB without the writer lock, which the
 * engine's process holds; for PostgreSQL without running the migrations, which it ran),
 * loads every module once, and executes the batches the engine sends. Piscina may start a task
 * before the previous one of the same worker has finished awaiting its commit, so batches are
 * chained: a batch starts only when the previous one replied, which keeps commands for one
 * aggregate in arrival order (the engine also sends one batch per shard at a time).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { ThaloError, serializeError } from '../src/errors.js';
import type {
  ClosedReply,
  EncodedBatchReply,
  ExecuteBatchTask,
  GuestLogMessage,
  LoadModulesReply,
  WorkerConfig,
  WorkerReply,
  WorkerTask,
} from '../src/protocol/messages.js';
import { ProgressBoard } from '../src/protocol/progress-board.js';
import { decodeCommands, encodeBatchReply } from '../src/protocol/batch-codec.js';
import { AggregateStates } from './aggregate-states.js';
import { BatchExecutor } from './batch-executor.js';
import { StoreOnDemand } from './store-on-demand.js';
import { stateAt } from './state-at.js';

const config = workerData as WorkerConfig;
const store = new StoreOnDemand(config.store, {
  durability: config.durability,
  idempotencyWindowMs: config.idempotencyWindowMs,
  maxEventsPerAppend: config.maxEventsPerCommand,
  maxEventBytes: config.maxEventBytes,
  maxMetadataBytes: config.maxMetadataBytes,
});
// Guest log lines go to the engine as they happen, outside the task protocol.
const log = (level: number, message: string, module: string) =>
  parentPort?.postMessage({ type: 'guest-log', level, message, module } satisfies GuestLogMessage);
const states = new AggregateStates(store, config.cacheSize, {
  maxPayloadBytes: config.maxPayloadBytes,
  maxEventsPerCommand: config.maxEventsPerCommand,
  maxEventBytes: config.maxEventBytes,
  log,
});
const progress = new ProgressBoard(config.progress, config.progressOrigin);
// Other processes may write a PostgreSQL store (the nodes of a cluster): a cached state may be behind it.
const executor = new BatchExecutor(store, states, progress, {
  snapshotEvery: config.snapshotEvery,
  sharedStore: config.store.kind === 'postgres',
});

states.load(config.modules);
let chain: Promise<unknown> = Promise.resolve();

async function loadModules(task: Extract<WorkerTask, { type: 'load-modules' }>): Promise<LoadModulesReply> {
  states.retain(new Set(task.modules.map((m) => m.name)));
  const failures = states.load(task.modules);
  return { type: 'modules-loaded', errors: failures.map((f) => ({ name: f.ref.name, error: serializeError(f.error) })) };
}

/** A batch: its commands decoded from their one buffer, its reply encoded into one. */
async function executeBatch(task: ExecuteBatchTask): Promise<EncodedBatchReply> {
  const reply = await executor.execute({ shard: task.shard, seq: task.seq, commands: decodeCommands(task.commands) });
  return encodeBatchReply(reply);
}

async function close(): Promise<ClosedReply> {
  await store.close();
  return { type: 'closed' };
}

/**
 * One task, by its type. The `never` case makes a task type added to the protocol
 * (src/protocol/messages.ts) and not handled here a compile error; a task of an unknown type at
 * run time (an engine and worker from different builds) is refused instead of read as a close.
 */
function dispatch(task: WorkerTask): Promise<WorkerReply> {
  switch (task.type) {
    case 'execute-batch':
      return executeBatch(task);
    case 'load-modules':
      return loadModules(task);
    case 'close':
      return close();
    case 'state-at':
      return stateAt(store, states, progress, task);
    default: {
      const unknown: never = task;
      throw new ThaloError('INTERNAL', `the worker got a task of unknown type ${JSON.stringify((unknown as { type?: unknown }).type)}`);
    }
  }
}

/**
 * Piscina's entry. A batch's reply buffer is handed over with Piscina's `move`, which transfers
 * it to the engine's thread instead of copying it (it is the encoder's own copy, see
 * src/protocol/batch-codec.ts); Piscina unwraps it there, so the engine receives the buffer itself.
 */
export default function run(task: WorkerTask): Promise<WorkerReply | ReturnType<typeof move>> {
  const next = chain.then(() => dispatch(task));
  chain = next.catch(() => undefined);
  return next.then((reply) => (reply instanceof Uint8Array ? move(reply) : reply));
}
