/**
 * A projection: a checkpointed consumer of the global log.
 *
 * At-least-once: the checkpoint moves only after the handler succeeded for a batch, so a crash
 * or a thrown error replays, never skips. The reading (catch-up, then live on each commit) is the
 * log's one follower loop (`log-follower.ts`); this class adds the filter, the checkpoint, the
 * retries with a doubling backoff, pause and reset.
 */
import { ThaloError } from '../errors.js';
import { DEFAULT_READ_PAGE_BYTES } from '../limits.js';
import { decodeEvent } from '../protocol/decode-event.js';
import type { EventLog } from '../protocol/event-log.js';
import type { StoredEvent } from '../store/types.js';
import { compileFilter } from './filter.js';
import { LogFollower } from './log-follower.js';
import type { ProjectionCheckpoints, ProjectionHandler, ProjectionInfo, ProjectionOptions, ProjectionStatus } from './types.js';

export class Projection {
  readonly kind = 'projection' as const;
  private status: ProjectionStatus = 'running';
  private position: number;
  private failures = 0;
  private lastError: string | undefined;
  /** The checkpoint writes, chained so they land in order; the last one is awaited on stop. */
  private checkpointWrite: Promise<void> = Promise.resolve();
  private readonly follower: LogFollower;
  private readonly settings: Required<Omit<ProjectionOptions, 'filter' | 'onError' | 'from' | 'checkpoints'>>;
  private readonly checkpoints: ProjectionCheckpoints;
  private readonly matches;
  private readonly stopOnClose: () => void;
  private readonly stopHeadWatch: () => void;
  /** The last position this projection knows of: the head when it started, then each commit notice and page. */
  private head = 0;
  /** Whether the stored checkpoint has been read (`ready` resolves then). */
  private started = false;

  /**
   * Start running `handler` over `log` under checkpoint `name`: from the checkpoint (or
   * `options.from`) to the head, then live on each commit. Stops by itself when the log closes.
   */
  constructor(
    readonly name: string,
    private readonly handler: ProjectionHandler,
    private readonly log: EventLog,
    private readonly options: ProjectionOptions = {},
  ) {
    if (typeof handler !== 'function') throw new ThaloError('INVALID_ARGUMENT', 'handler must be a function');
    const from = options.from ?? 1;
    if (!Number.isSafeInteger(from) || from < 1)
      throw new ThaloError('INVALID_ARGUMENT', `options.from must be a position of at least 1, got ${JSON.stringify(from)}`);
    this.settings = {
      batchSize: positive(options.batchSize, 'batchSize', 1_000),
      pollIntervalMs: positive(options.pollIntervalMs, 'pollIntervalMs', 1_000),
      retryInitialMs: positive(options.retryInitialMs, 'retryInitialMs', 100),
      retryMaxMs: positive(options.retryMaxMs, 'retryMaxMs', 30_000),
    };
    this.matches = compileFilter(options.filter);
    this.checkpoints = options.checkpoints ?? {
      get: (checkpoint) => log.getCheckpoint(checkpoint),
      set: async (checkpoint, position) => log.setCheckpoint(checkpoint, position),
    };
    // Until the checkpoint is read (the follower's first step), the position is the one before `from`.
    this.position = from - 1;
    this.follower = new LogFollower(
      log,
      {
        page: (events) => this.handle(events),
        failed: (error) => this.failed(error),
        restarted: (position) => this.restarted(position - 1),
      },
      {
        from,
        start: async () => {
          const [checkpoint, head] = await Promise.all([this.checkpoints.get(name), log.lastPosition()]);
          this.head = Math.max(this.head, head);
          this.position = checkpoint ?? from - 1;
          this.started = true;
          this.progressed();
          return this.position + 1;
        },
        pageSize: this.settings.batchSize,
        maxBytes: DEFAULT_READ_PAGE_BYTES,
        pollIntervalMs: this.settings.pollIntervalMs,
      },
    );
    this.stopOnClose = log.onClose(() => this.stop());
    this.stopHeadWatch = log.onCommit((position) => (this.head = Math.max(this.head, position)));
    this.follower.start();
  }

  info(): ProjectionInfo {
    const info: ProjectionInfo = {
      name: this.name,
      status: this.status,
      position: this.position,
      lag: Math.max(0, this.head - this.position),
      failures: this.failures,
    };
    if (this.lastError !== undefined) info.lastError = this.lastError;
    return info;
  }

  pause(): void {
    if (this.status === 'stopped') return;
    this.status = 'paused';
    this.follower.pause();
  }

  resume(): void {
    if (this.status !== 'paused') return;
    this.status = this.failures > 0 ? 'retrying' : 'running';
    this.follower.resume();
  }

  /**
   * Replay from `position` + 1 (default: from the start). Takes effect between batches, and
   * resolves once the checkpoint is stored. A stopped projection stores the checkpoint itself,
   * so that it replays from there when it is started again.
   */
  async reset(position = 0): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0)
      throw new ThaloError('INVALID_ARGUMENT', `position must be a non-negative integer, got ${JSON.stringify(position)}`);
    if (this.status === 'stopped') {
      await this.checkpointWrite;
      await this.checkpoints.set(this.name, position);
      this.position = position;
      return;
    }
    this.follower.restart(position + 1);
    await this.waitFor(() => (this.position === position && !this.follower.restarting) || this.status === 'stopped');
  }

  /** Resolves once the stored checkpoint has been read and the projection runs from it (or it stopped). */
  async ready(): Promise<void> {
    await this.waitFor(() => this.started || this.status === 'stopped');
  }

  /** Resolves once the checkpoint is at least `position` (for tests and tools). */
  async waitForPosition(position: number): Promise<void> {
    await this.waitFor(() => this.position >= position || this.status === 'stopped');
  }

  /** Finish the batch in hand, then stop. */
  async stop(): Promise<void> {
    this.status = 'stopped';
    this.stopOnClose();
    this.stopHeadWatch();
    await this.follower.stop();
    await this.checkpointWrite;
    this.progressed();
  }

  private async handle(batch: StoredEvent[]): Promise<void> {
    const last = batch[batch.length - 1]!.position;
    this.head = Math.max(this.head, last);
    const selected = this.matches ? batch.filter(this.matches) : batch;
    if (selected.length > 0) await this.handler(selected.map(decodeEvent), { name: this.name, position: last });
    if (this.status === 'retrying') this.status = 'running';
    this.failures = 0;
    // A reset requested while the handler ran wins over this batch's checkpoint.
    if (this.follower.restarting) return;
    this.position = last;
    // The checkpoint write overlaps the next batch; writes stay in order, and the last one is
    // awaited before stopping. A crash before it lands replays this batch: at-least-once.
    this.checkpointWrite = this.checkpointWrite
      .then(() => this.checkpoints.set(this.name, last))
      .catch((error: unknown) => {
        // The store is closing or failing: the next start replays from the last checkpoint stored.
        this.lastError = `checkpoint not stored: ${error instanceof Error ? error.message : String(error)}`;
      });
    this.progressed();
  }

  /** A failed batch (or read) is tried again after a doubling backoff: nothing is ever skipped. */
  private failed(error: unknown): number {
    this.failures++;
    this.lastError = error instanceof Error ? error.message : String(error);
    this.options.onError?.(error, this.failures);
    if (this.status === 'running') this.status = 'retrying';
    return Math.min(this.settings.retryMaxMs, this.settings.retryInitialMs * 2 ** (this.failures - 1));
  }

  private async restarted(position: number): Promise<void> {
    await this.checkpointWrite;
    this.position = position;
    this.checkpointWrite = this.checkpoints.set(this.name, position);
    await this.checkpointWrite;
    this.failures = 0;
    if (this.status === 'retrying') this.status = 'running';
    this.progressed();
  }

  private readonly waiters = new Set<() => void>();

  private waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (done()) {
          this.waiters.delete(check);
          resolve();
        }
      };
      this.waiters.add(check);
    });
  }

  private progressed(): void {
    for (const check of [...this.waiters]) check();
  }
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ThaloError('INVALID_ARGUMENT', `options.${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}
