/**
 * The one loop that follows the global log, for every consumer of it: a projection (and so a
 * relay) and the live subscription over Server-Sent Events differ only in what they do with a
 * page of events, and what they do when something fails.
 *
 * Catching up and following are the same loop: read a page from `next`, hand it over, move `next`
 * past it once the handler resolved; when a read comes back empty, wait for a commit notice (or
 * the polling interval) and read again. The log is dense and read by position, and `next` moves
 * only past a page that was handled, so the switch from catch-up to live can neither skip nor
 * repeat an event, whatever commits while the catch-up runs. A handler that awaits (a slow
 * socket, a slow read model) holds the loop: memory stays bounded by one page.
 */
import type { EventLog } from '../protocol/event-log.js';
import type { Awaitable } from '../store/contract.js';
import type { StoredEvent } from '../store/types.js';

export interface LogFollowerHandlers {
  /** A page of events from `next` on; the follower moves past it once this resolves. */
  page(events: StoredEvent[]): Promise<void> | void;
  /**
   * A read or `page` failed: return how long to wait (in ms) before reading the same page again,
   * or undefined to stop following.
   */
  failed(error: unknown): number | undefined;
  /** A `restart` takes effect: `next` is now `from`. Awaited before the next read. */
  restarted?(from: number): Promise<void> | void;
}

export interface LogFollowerOptions {
  /** The first position to read. */
  from: number;
  /**
   * Where to start instead, read once before the first page (a stored checkpoint, which a store
   * over the network answers with a promise). A failure goes to `failed` and is tried again.
   */
  start?: () => Awaitable<number>;
  /** Events per page at most. */
  pageSize: number;
  /** Bytes of event data per page at most (a page holds at least one event). */
  maxBytes: number;
  /** Read again after this long without a commit notice; without it, only a notice wakes the loop. */
  pollIntervalMs?: number;
}

export class LogFollower {
  /** The position of the next event to read. */
  next: number;
  private stopped = false;
  private paused = false;
  /** Set by a commit notice (or a jump) since the last read: read again rather than wait. */
  private woken = false;
  private restartFrom: number | undefined;
  private wakeUp: ((commit: boolean) => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private pendingStart: (() => Awaitable<number>) | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly handlers: LogFollowerHandlers,
    private readonly options: LogFollowerOptions,
  ) {
    this.next = options.from;
    this.pendingStart = options.start;
  }

  /** Start reading; call it once the owner is ready for its handlers. */
  start(): void {
    this.unsubscribe = this.log.onCommit(() => this.wake(true));
    this.loop = this.run();
  }

  /** True when a `restart` waits to take effect: the page in hand is about to be read again from elsewhere. */
  get restarting(): boolean {
    return this.restartFrom !== undefined;
  }

  /** True once the loop stopped, by `stop` or because `failed` said so. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Go on from position `from`, between two pages (never inside one). */
  restart(from: number): void {
    this.restartFrom = from;
    this.wake(false);
  }

  /** Read nothing until `resume`; a restart still takes effect. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake(false);
  }

  /** Let the page in hand finish, then stop; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake(false);
    await this.loop;
  }

  /** `commit`: a commit notice, which ends a wait for events but not a backoff or a pause. */
  private wake(commit: boolean): void {
    if (commit) this.woken = true;
    this.wakeUp?.(commit);
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.pendingStart !== undefined && this.restartFrom === undefined) {
          try {
            this.next = await this.pendingStart();
            this.pendingStart = undefined;
          } catch (error) {
            await this.failed(error);
          }
          continue;
        }
        if (this.restartFrom !== undefined) {
          this.pendingStart = undefined;
          const from = this.restartFrom;
          this.restartFrom = undefined;
          this.next = from;
          try {
            await this.handlers.restarted?.(from);
          } catch (error) {
            await this.failed(error);
          }
          continue;
        }
        if (this.paused) {
          await this.sleep(undefined, false);
          continue;
        }
        // A notice that arrives from here on is for events this read may not see.
        this.woken = false;
        let events: StoredEvent[];
        try {
          events = await this.log.readAll({ from: this.next, limit: this.options.pageSize, maxBytes: this.options.maxBytes });
        } catch (error) {
          await this.failed(error);
          continue;
        }
        if (events.length === 0) {
          if (!this.woken) await this.sleep(this.options.pollIntervalMs, true);
          continue;
        }
        if (this.stopped || this.restartFrom !== undefined) continue;
        try {
          await this.handlers.page(events);
        } catch (error) {
          await this.failed(error);
          continue;
        }
        this.next = events[events.length - 1]!.position + 1;
      }
    } finally {
      this.stopped = true;
      this.unsubscribe?.();
    }
  }

  private async failed(error: unknown): Promise<void> {
    if (this.stopped) return;
    const delay = this.handlers.failed(error);
    if (delay === undefined) this.stopped = true;
    else await this.sleep(delay, false);
  }

  /** Wait `ms` (forever when undefined), or until a jump, a resume or a stop; a commit too when `onCommit`. */
  private sleep(ms: number | undefined, onCommit: boolean): Promise<void> {
    if (this.stopped || this.restartFrom !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === wakeUp) this.wakeUp = undefined;
        resolve();
      };
      const wakeUp = (commit: boolean): void => {
        if (!commit || onCommit) done();
      };
      if (ms !== undefined) timer = setTimeout(done, ms);
      this.wakeUp = wakeUp;
    });
  }
}
