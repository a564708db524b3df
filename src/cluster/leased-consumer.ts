/**
 * A projection or relay of a cluster node: set up on every node, run on the one holding its
 * lease. While this node holds the lease the consumer runs here with a fenced checkpoint; while
 * another node does, this one stands by (status `standby`), shows who runs it and the stored
 * checkpoint, and its keeper tries to take the lease every third of the lease. Each acquisition
 * starts the consumer afresh from the stored checkpoint, so what the previous holder handled but
 * did not checkpoint is delivered again: at-least-once across hand-overs.
 */
import { ThaloError } from '../errors.js';
import type { EventLog } from '../protocol/event-log.js';
import type { Consumer, ProjectionCheckpoints, ProjectionInfo } from '../projections/index.js';
import { fencedCheckpoints } from './fenced-checkpoints.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { LeaseLoss } from './lease-keeper.js';
import { leaseName } from './lease-info.js';
import type { LeaseInfo } from './lease-info.js';
import type { LeaseTable } from './lease-table.js';

/** What `GET /v1/projections` adds for a consumer under a lease. */
export interface LeasedInfo {
  /** True while this node runs it. */
  runningHere: boolean;
  /** The node running it (as last seen from here), or null when nobody holds the lease. */
  holder: string | null;
  /** The lease's fence as last seen from here. */
  fence: number;
}

/** What the runtime is told about a lease, to log and count it. */
export interface LeaseEvents {
  acquired?(lease: string, fence: number): void;
  lost?(lease: string, fence: number, reason: LeaseLoss): void;
  error?(lease: string, error: unknown): void;
}

export interface LeasedConsumerOptions {
  kind: LeaseInfo['kind'];
  name: string;
  table: LeaseTable;
  log: EventLog;
  holder: string;
  leaseMs: number;
  /** Build and start the consumer with the checkpoints it must use; called at each acquisition. */
  start(checkpoints: ProjectionCheckpoints): Promise<Consumer> | Consumer;
  /** Fields shown while standing by besides the checkpoint (a relay's target). */
  standbyFields?: Record<string, unknown>;
  events?: LeaseEvents;
}

export class LeasedConsumer implements Consumer {
  readonly kind: LeaseInfo['kind'];
  readonly name: string;
  readonly lease: string;
  private readonly keeper: LeaseKeeper;
  private running: Consumer | undefined;
  private holder: string | null = null;
  private fence = 0;
  private position = 0;
  private head = 0;
  private stopped = false;
  private readonly stopHeadWatch: () => void;
  private readonly stopOnClose: () => void;

  constructor(private readonly options: LeasedConsumerOptions) {
    this.kind = options.kind;
    this.name = options.name;
    this.lease = leaseName(options.kind, options.name);
    const { table, holder, leaseMs, events } = options;
    this.keeper = new LeaseKeeper({
      table,
      name: this.lease,
      holder,
      leaseMs,
      acquired: async (fence) => {
        this.holder = holder;
        this.fence = fence;
        events?.acquired?.(this.lease, fence);
        this.running = await options.start(
          fencedCheckpoints({ table, lease: this.lease, holder, fence, refused: (f) => this.keeper.fenced(f) }),
        );
      },
      lost: async (fence, reason) => {
        events?.lost?.(this.lease, fence, reason);
        const running = this.running;
        this.running = undefined;
        if (running !== undefined) {
          this.position = running.info().position;
          await running.stop();
        }
        if (this.holder === holder) this.holder = null;
      },
      standingBy: () => this.refresh(),
      onError: (error) => events?.error?.(this.lease, error),
    });
    this.stopHeadWatch = options.log.onCommit((position) => (this.head = Math.max(this.head, position)));
    this.stopOnClose = options.log.onClose(() => this.stop());
    this.keeper.start();
  }

  /** True while this node runs the consumer. */
  get runningHere(): boolean {
    return this.running !== undefined;
  }

  info(): ProjectionInfo & LeasedInfo {
    if (this.running !== undefined) {
      return { ...this.running.info(), runningHere: true, holder: this.holder, fence: this.fence };
    }
    return {
      name: this.name,
      status: this.stopped ? 'stopped' : 'standby',
      position: this.position,
      lag: Math.max(0, this.head - this.position),
      failures: 0,
      ...this.options.standbyFields,
      runningHere: false,
      holder: this.holder,
      fence: this.fence,
    };
  }

  /** Resets run where the consumer runs: a node standing by refuses, naming the holder. */
  async reset(position: number): Promise<void> {
    if (this.running === undefined)
      throw new ThaloError(
        'LEASE_NOT_HELD',
        `the ${this.kind} ${JSON.stringify(this.name)} runs on node ${this.holder ?? '(none now)'}, not on this one: reset it there`,
        { data: { name: this.name, holder: this.holder } },
      );
    await this.running.reset(position);
  }

  /** Stop the consumer if it runs here (its last checkpoint stored), and give the lease up. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopHeadWatch();
    this.stopOnClose();
    await this.keeper.stop();
  }

  /** While standing by: who holds the lease, and the stored checkpoint. */
  private async refresh(): Promise<void> {
    const [row, position, head] = await Promise.all([
      this.options.table.get(this.lease),
      this.options.table.readCheckpoint(this.name),
      this.options.log.lastPosition(),
    ]);
    this.head = Math.max(this.head, head);
    if (this.running !== undefined) return;
    if (row !== undefined) {
      this.holder = row.expiresInMs > 0 ? row.holder : null;
      this.fence = row.fence;
    }
    if (position !== undefined) this.position = position;
  }
}
