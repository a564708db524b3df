/**
 * Keeps one lease for this node: tries to take it while another holds it, renews it while held,
 * gives it up on a clean stop, and stops the consumer under it by itself before the lease can
 * expire when renewals fail (self-fencing).
 *
 * Timing. Every tick (a third of the lease) either tries to acquire or renews. A successful
 * acquire or renew sent at local time t makes the database's expiry at least t + leaseMs (the
 * database's `now()` is later than t), so this node's own deadline is t + leaseMs less a margin
 * of a sixth of the lease: the consumer is stopped by then unless a later renewal succeeded.
 * Only elapsed time on this node's monotonic clock is compared, never two machines' clocks. A
 * process that is paused through its deadline (a stop-the-world pause) cannot stop itself in
 * time; that case is what the fence on checkpoint writes is for (lease-table.ts).
 */
import { performance } from 'node:perf_hooks';
import type { LeaseTable } from './lease-table.js';

export type LeaseLoss = 'expired' | 'taken' | 'fenced' | 'released' | 'failed';

export interface LeaseKeeperOptions {
  table: LeaseTable;
  /** The lease row's name (`projection:audit`). */
  name: string;
  /** This node's id. */
  holder: string;
  leaseMs: number;
  /** The lease is this node's under `fence`: start the consumer. */
  acquired(fence: number): Promise<void> | void;
  /**
   * The lease is no longer (or may soon no longer be) this node's: stop the consumer. `expired`:
   * renewals failed until the deadline; `taken`: a renewal found the lease gone; `fenced`: a
   * checkpoint write was refused; `released`: a clean stop; `failed`: the consumer could not
   * start (the lease is given back, and tried for again at the next tick).
   */
  lost(fence: number, reason: LeaseLoss): Promise<void> | void;
  /** An acquisition found the lease another's: a chance to look at who holds it (its errors go to `onError`). */
  standingBy?(): Promise<void>;
  /** A statement failed (the database unreachable, ...); the keeper goes on trying. */
  onError?(error: unknown): void;
}

export class LeaseKeeper {
  /** The fence while this node holds the lease (as far as it knows). */
  private held: number | undefined;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Starts and stops of the consumer, one after the other. */
  private transitions: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeaseKeeperOptions) {}

  /** The fence while this node holds the lease, else undefined. */
  get fence(): number | undefined {
    return this.held;
  }

  /** Begin: try to acquire now, then every third of the lease. */
  start(): void {
    this.schedule(0);
  }

  /** A write under `fence` was refused: another node holds the lease now. Stop the consumer at once. */
  fenced(fence: number): void {
    if (this.held === fence) this.drop('fenced');
  }

  /** Stop the consumer (if held), then release the lease so another node can take it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.tickTimer);
    // A tick on its way is not awaited (a statement may hang while the database is cut off): it
    // sees `stopped` when it returns, and gives back a lease it took meanwhile.
    const fence = this.held;
    if (fence !== undefined) {
      this.drop('released');
      await this.transitions;
      await this.options.table
        .release(this.options.name, this.options.holder, fence)
        .catch((error: unknown) => this.options.onError?.(error));
    }
    await this.transitions;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const { table, name, holder, leaseMs } = this.options;
    const sentAt = performance.now();
    const fence = this.held;
    try {
      if (fence === undefined) {
        const acquired = await table.acquire(name, holder, leaseMs);
        if (acquired !== undefined && this.stopped) await table.release(name, holder, acquired.fence);
        else if (acquired !== undefined && this.held === undefined) {
          this.held = acquired.fence;
          this.armDeadline(sentAt);
          this.transition(async () => {
            try {
              await this.options.acquired(acquired.fence);
            } catch (error) {
              // A lease held by a node that runs nothing would stall the consumer for the whole cluster.
              this.options.onError?.(error);
              this.drop('failed');
              await table.release(name, holder, acquired.fence).catch((e: unknown) => this.options.onError?.(e));
            }
          });
        }
        if (acquired === undefined) await this.options.standingBy?.();
      } else {
        const renewed = await table.renew(name, holder, fence, leaseMs);
        // The deadline may have passed (and the consumer stopped) while the renewal was on its way.
        if (this.held === fence) {
          if (renewed) this.armDeadline(sentAt);
          else this.drop('taken');
        }
      }
    } catch (error) {
      // The deadline stops the consumer in time if renewals keep failing.
      this.options.onError?.(error);
    }
    this.schedule(Math.max(1, Math.floor(leaseMs / 3)));
  }

  private armDeadline(sentAt: number): void {
    const { leaseMs } = this.options;
    clearTimeout(this.deadlineTimer);
    const remaining = sentAt + leaseMs - leaseMs / 6 - performance.now();
    this.deadlineTimer = setTimeout(() => this.drop('expired'), Math.max(0, remaining));
  }

  private drop(reason: LeaseLoss): void {
    const fence = this.held;
    if (fence === undefined) return;
    this.held = undefined;
    clearTimeout(this.deadlineTimer);
    this.transition(() => this.options.lost(fence, reason));
  }

  private transition(step: () => Promise<void> | void): void {
    this.transitions = this.transitions.then(step).catch((error: unknown) => this.options.onError?.(error));
  }
}
