/**
 * The state of an aggregate at a past seq (the console's time travel, `GET
 * /v1/aggregates/:aggregate/:id/state?at=`): a fresh guest state, the stream's events up to `at`
 * applied to it, and the module's snapshot of it.
 *
 * It never touches the cache: the cached state is the latest one, and a state of the past put
 * there would serve the next command. It never starts from a stored snapshot either, since
 * the stored one may be past `at`. A trap is handled as a command's is: a poisoned instance is
 * replaced and its cached states go with it.
 */
import { serializeError } from '../src/errors.js';
import type { EventStoreContract } from '../src/store/index.js';
import type { StateAtReply, StateAtTask } from '../src/protocol/messages.js';
import { STEP_IDLE } from '../src/protocol/progress-board.js';
import type { ProgressBoard } from '../src/protocol/progress-board.js';
import type { AggregateStates } from './aggregate-states.js';

/** Events read per `readStream` call, as a rebuild reads them. */
const CHUNK = 2048;

export async function stateAt(
  store: EventStoreContract,
  states: AggregateStates,
  progress: ProgressBoard,
  task: StateAtTask,
): Promise<StateAtReply> {
  try {
    return await rebuildAt(store, states, progress, task);
  } catch (error) {
    // Errors lose their code across postMessage: sent as data, rebuilt by the engine.
    return { type: 'state-at', ok: false, error: serializeError(error) };
  } finally {
    progress.mark(task.shard, task.seq, STEP_IDLE);
  }
}

async function rebuildAt(
  store: EventStoreContract,
  states: AggregateStates,
  progress: ProgressBoard,
  task: StateAtTask,
): Promise<StateAtReply> {
  const slot = states.slot(task.aggregate);
  const { instance } = slot;
  // Step 0 of this task: the engine's watchdog stops the worker if the guest runs past the
  // command deadline (a guest that loops in thalo_apply).
  progress.mark(task.shard, task.seq, 0);
  const version = await store.streamVersion(task.stream);
  const until = Math.min(task.at, version);
  const handle = instance.create(task.id);
  try {
    for (let from = 1; from <= until;) {
      const events = await store.readStream(task.stream, { from, limit: Math.min(CHUNK, until - from + 1) });
      if (events.length === 0) break;
      instance.apply(handle, events);
      from = events.at(-1)!.seq + 1;
    }
    const state = instance.snapshot(handle);
    return { type: 'state-at', ok: true, seq: until, version, state };
  } catch (error) {
    // A trap poisoned the instance: replace it (its cached states go with it), as after a command's trap.
    if (instance.poisoned) states.recover(slot, task.stream);
    throw error;
  } finally {
    if (!instance.poisoned) instance.drop(handle);
  }
}
