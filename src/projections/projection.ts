/**
 * A projection: a checkpointed consumer of the global log.
 *
 * At-least-once: the checkpoint moves only after the handler succeeded for a batch, so a crash
 * or a thrown error replays, never skips. Catch-up and live are the same loop: read from the
 * checkpoint to the head in batches, then sleep until a commit notice (or the polling interval)
 * and read again. Since the log is dense and read by position, there is no gap and no duplicate
 * at the switch from catching up to following.
 */
import { ThaloError } from '../errors.js';
import { DEFAULT_READ_PAGE_BYTES } from '../limits.js';
import { decodeEvent } from '../protocol/decode-event.js';
import type { EventStore } from '../store/index.js';
import { compileFilter } from './filter.js';
import type { ProjectionHandler, ProjectionInfo, ProjectionOptions, ProjectionStatus } from './types.js';

export class Projection {
  private status: ProjectionStatus = 'running';
  private position: number;
  private failures = 0;
  private lastError: string | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private resetTo: number | undefined;
  private readonly settings: Required<Omit<ProjectionOptions, 'filter' | 'onError' | 'from'>>;
  private readonly matches;

  constructor(
    readonly name: string,
    private readonly handler: ProjectionHandler,
    private readonly store: EventStore,
    private readonly options: ProjectionOptions = {},
  ) {
    const from = options.from ?? 1;
    if (!Number.isSafeInteger(from) || from < 1) throw new ThaloError('INVALID_ARGUMENT', `options.from must be a position of at least 1, got ${JSON.stringify(from)}`);
    this.settings = {
      batchSize: positive(options.batchSize, 'batchSize', 1_000),
      pollIntervalMs: positive(options.pollIntervalMs, 'pollIntervalMs', 1_000),
      retryInitialMs: positive(options.retryInitialMs, 'retryInitialMs', 100),
      retryMaxMs: positive(options.retryMaxMs, 'retryMaxMs', 30_000),
    };
    this.matches = compileFilter(options.filter);
    this.position = store.getCheckpoint(name) ?? from - 1;
    this.loop = this.run();
  }

  /** Wake the loop: new events were committed. */
  notify(): void {
    this.wakeUp?.();
  }

  info(): ProjectionInfo {
    const info: ProjectionInfo = {
      name: this.name,
      status: this.status,
      position: this.position,
      lag: Math.max(0, this.store.lastPosition() - this.position),
      failures: this.failures,
    };
    if (this.lastError !== undefined) info.lastError = this.lastError;
    return info;
  }

  pause(): void {
    if (this.status !== 'stopped') this.status = 'paused';
  }

  resume(): void {
    if (this.status === 'paused') {
      this.status = 'running';
      this.notify();
    }
  }

  /** Replay from `position` + 1 (default: from the start). Takes effect between batches. */
  async reset(position = 0): Promise<void> {
    if (!Number.isSafeInteger(position) || position < 0) throw new ThaloError('INVALID_ARGUMENT', `position must be a non-negative integer, got ${JSON.stringify(position)}`);
    this.resetTo = position;
    this.notify();
    await this.waitFor(() => this.resetTo === undefined || this.status === 'stopped');
  }

  /** Resolves once the checkpoint is at least `position` (for tests and tools). */
  async waitForPosition(position: number): Promise<void> {
    await this.waitFor(() => this.position >= position || this.status === 'stopped');
  }

  /** Finish the batch in hand, then stop. */
  async stop(): Promise<void> {
    this.status = 'stopped';
    this.notify();
    await this.loop;
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

  private async run(): Promise<void> {
    let checkpointWrite: Promise<void> = Promise.resolve();
    while (this.status !== 'stopped') {
      if (this.resetTo !== undefined) {
        await checkpointWrite;
        this.position = this.resetTo;
        checkpointWrite = this.store.setCheckpoint(this.name, this.position);
        await checkpointWrite;
        this.resetTo = undefined;
        this.failures = 0;
        this.progressed();
      }
      if (this.status === 'paused') {
        await this.sleep(this.settings.pollIntervalMs);
        continue;
      }
      const batch = this.store.readAll({ from: this.position + 1, limit: this.settings.batchSize, maxBytes: DEFAULT_READ_PAGE_BYTES });
      if (batch.length === 0) {
        await this.sleep(this.settings.pollIntervalMs);
        continue;
      }
      const last = batch[batch.length - 1]!.position;
      const selected = this.matches ? batch.filter(this.matches) : batch;
      if (selected.length > 0) {
        try {
          await this.handler(selected.map(decodeEvent), { name: this.name, position: last });
        } catch (error) {
          this.failures++;
          this.lastError = error instanceof Error ? error.message : String(error);
          this.options.onError?.(error, this.failures);
          if (this.status === 'running') this.status = 'retrying';
          await this.sleep(Math.min(this.settings.retryMaxMs, this.settings.retryInitialMs * 2 ** (this.failures - 1)));
          continue;
        }
      }
      if (this.status === 'retrying') this.status = 'running';
      this.failures = 0;
      // A reset requested while the handler ran wins over this batch's checkpoint.
      if (this.resetTo !== undefined) continue;
      this.position = last;
      // The checkpoint write overlaps the next batch; writes stay in order, and the last one is
      // awaited before stopping. A crash before it lands replays this batch: at-least-once.
      checkpointWrite = checkpointWrite.then(() => this.store.setCheckpoint(this.name, last)).catch((error: unknown) => {
        // The store is closing or failing: the next start replays from the last checkpoint stored.
        this.lastError = `checkpoint not stored: ${error instanceof Error ? error.message : String(error)}`;
      });
      this.progressed();
    }
    await checkpointWrite;
    this.progressed();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ThaloError('INVALID_ARGUMENT', `options.${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}
