/**
 * Shared progress slots between the engine and its workers, one per shard.
 *
 * A worker stuck in guest code (a module that loops forever) cannot answer messages, so the
 * engine cannot ask it what it is doing. Instead the worker writes, before each command, which
 * task and which command of it is running and since when; the engine's watchdog reads the slot
 * and terminates a worker whose command has run past the deadline. The same slot tells the
 * engine whether a batch that died had reached its commit, which decides whether its commands
 * can be retried safely.
 */

const FIELDS = 4;
const TASK = 0;
const STEP = 1;
const SINCE = 2;
/** The last task that began a commit: a batch that died after this may have written some of its commands. */
const COMMIT_TASK = 3;

/** The worker is between tasks. */
export const STEP_IDLE = -1;
/** The worker is committing the batch: its outcome is unknown until the reply. */
export const STEP_COMMITTING = -2;
/** The batch is committed; the worker is preparing its reply. */
export const STEP_COMMITTED = -3;

export interface ProgressReading {
  task: number;
  /** Index of the command running guest code, or one of the negative `STEP_*` values. */
  step: number;
  /** Milliseconds since `ProgressBoard.origin` when the step began, modulo 2^32 (see `elapsed`). */
  since: number;
  /** The last task that began a commit. */
  commitTask: number;
}

/**
 * Milliseconds on the process's monotonic clock: the same clock in every thread, and one that a
 * change of the wall clock (NTP, an operator) does not move, so a jump cannot make every command
 * look overdue, or none.
 */
function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}

export class ProgressBoard {
  readonly slots: Int32Array;
  /** Times are stored relative to this, in whole ms, in an Int32 slot (see `elapsed`). */
  readonly origin: number;

  /** `now` is for tests (a clock near the Int32 wrap); everything else uses the default. */
  constructor(
    buffer: SharedArrayBuffer,
    origin: number,
    private readonly now: () => number = monotonicMs,
  ) {
    this.slots = new Int32Array(buffer);
    this.origin = origin;
  }

  static create(shards: number, now: () => number = monotonicMs): { buffer: SharedArrayBuffer; origin: number } {
    const buffer = new SharedArrayBuffer(shards * FIELDS * Int32Array.BYTES_PER_ELEMENT);
    const slots = new Int32Array(buffer);
    for (let shard = 0; shard < shards; shard++) {
      slots[shard * FIELDS + STEP] = STEP_IDLE;
      slots[shard * FIELDS + COMMIT_TASK] = -1;
    }
    return { buffer, origin: now() };
  }

  /** Worker side: mark that `step` of `task` begins now. */
  mark(shard: number, task: number, step: number): void {
    const base = shard * FIELDS;
    Atomics.store(this.slots, base + SINCE, this.ticks());
    Atomics.store(this.slots, base + TASK, task);
    if (step === STEP_COMMITTING) Atomics.store(this.slots, base + COMMIT_TASK, task);
    Atomics.store(this.slots, base + STEP, step);
  }

  read(shard: number): ProgressReading {
    const base = shard * FIELDS;
    return {
      task: Atomics.load(this.slots, base + TASK),
      step: Atomics.load(this.slots, base + STEP),
      since: Atomics.load(this.slots, base + SINCE),
      commitTask: Atomics.load(this.slots, base + COMMIT_TASK),
    };
  }

  /**
   * Milliseconds the current step of `shard` has been running.
   *
   * The slot holds the time since `origin` modulo 2^32 (an Int32 overflows after 24.86 days of
   * uptime, after which the plain difference made every command look weeks overdue). The
   * difference of two such values, taken modulo 2^32 again, is exact for any step shorter than
   * 24.86 days, whatever the uptime: the wrap cancels out.
   */
  elapsed(reading: ProgressReading): number {
    return (this.ticks() - reading.since) | 0;
  }

  /** Whole ms since `origin`, wrapped to an Int32. */
  private ticks(): number {
    return Math.floor(this.now() - this.origin) | 0;
  }
}
