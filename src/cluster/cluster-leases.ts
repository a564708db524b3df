/**
 * The leases of one cluster node: its own small pool on the store's database and schema, the
 * projections and relays it runs under a lease (each a `LeasedConsumer` among the runtime's
 * `Consumers`), the list of every lease for the cluster's views, and the counts the metrics show.
 *
 * @example
 *   const leases = ClusterLeases.open({ url, schema, nodeId, leaseMs: 3_000 });
 *   leases.project(consumers, 'audit', handler, {});     // runs here only while this node holds projection:audit
 *   await leases.listLeases();                           // [{ name: 'audit', kind: 'projection', holder, fence, expiresInMs }]
 */
import type pg from 'pg';
import type { Consumers, ProjectionHandler, ProjectionOptions } from '../projections/index.js';
import { Projection } from '../projections/index.js';
import { Relay, createTarget } from '../relays/index.js';
import type { RelayOptions } from '../relays/index.js';
import { createPool } from '../store/postgres/connection.js';
import type { LeaseInfo } from './lease-info.js';
import { LeaseTable } from './lease-table.js';
import { LeasedConsumer } from './leased-consumer.js';
import type { LeaseEvents } from './leased-consumer.js';

export interface ClusterLeasesOptions {
  /** The store's postgres:// URL and schema. */
  url: string;
  schema: string;
  /** This node's id (`ClusterOptions.nodeId`). */
  nodeId: string;
  leaseMs: number;
  events?: LeaseEvents;
}

export class ClusterLeases {
  readonly table: LeaseTable;
  private readonly leased: LeasedConsumer[] = [];
  private handed = 0;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: ClusterLeasesOptions,
  ) {
    this.table = new LeaseTable(pool, options.schema);
  }

  /**
   * A pool of two connections: one for the renewals, one for the checkpoint writes, so that a
   * slow checkpoint never delays a renewal past its deadline. Statements are bounded by the
   * lease: one that runs longer is of no use to a lease that has expired meanwhile.
   */
  static open(options: ClusterLeasesOptions): ClusterLeases {
    const pool = createPool({
      url: options.url,
      size: 2,
      statementTimeoutMs: Math.max(1_000, options.leaseMs),
      connectTimeoutMs: Math.max(1_000, options.leaseMs),
    });
    return new ClusterLeases(pool, options);
  }

  /** Run projection `name` here while this node holds `projection:<name>`; stand by otherwise. */
  project(consumers: Consumers, name: string, handler: ProjectionHandler, options: ProjectionOptions = {}): LeasedConsumer {
    return this.add(
      consumers,
      'projection',
      name,
      (checkpoints) => new Projection(name, handler, consumers.log, { ...options, checkpoints }),
    );
  }

  /**
   * Run a relay here while this node holds `relay:<name>`: its broker client is made at each
   * acquisition and closed at each loss, so a node standing by holds no broker connection.
   */
  relay(consumers: Consumers, options: RelayOptions & { name: string }, target: string): LeasedConsumer {
    return this.add(
      consumers,
      'relay',
      options.name,
      async (checkpoints) => new Relay(options.name, await createTarget(options), consumers.log, { ...options, checkpoints }),
      { target, state: 'standby' },
    );
  }

  /** Every lease of a projection or relay in the store (of every node), by name. */
  async listLeases(): Promise<LeaseInfo[]> {
    const leases: LeaseInfo[] = [];
    for (const row of await this.table.list()) {
      const kind = row.name.startsWith('projection:') ? 'projection' : row.name.startsWith('relay:') ? 'relay' : undefined;
      if (kind === undefined) continue;
      const expiresInMs = Math.round(row.expiresInMs);
      leases.push({
        name: row.name.slice(kind.length + 1),
        kind,
        holder: expiresInMs > 0 ? row.holder : null,
        fence: row.fence,
        expiresInMs,
      });
    }
    return leases;
  }

  /** Leases this node holds now. */
  leasesHeld(): number {
    return this.leased.filter((consumer) => consumer.runningHere).length;
  }

  /** Leases this node took over from another holder (or a former life of itself) since it started. */
  handovers(): number {
    return this.handed;
  }

  /** Stop every consumer run here, give their leases up, and close the pool. */
  async stop(): Promise<void> {
    await Promise.all(this.leased.map((consumer) => consumer.stop()));
    await this.pool.end();
  }

  private add(
    consumers: Consumers,
    kind: LeaseInfo['kind'],
    name: string,
    start: ConstructorParameters<typeof LeasedConsumer>[0]['start'],
    standbyFields?: Record<string, unknown>,
  ): LeasedConsumer {
    const { events, nodeId, leaseMs } = this.options;
    const consumer = consumers.add(
      name,
      () =>
        new LeasedConsumer({
          kind,
          name,
          table: this.table,
          log: consumers.log,
          holder: nodeId,
          leaseMs,
          start,
          ...(standbyFields === undefined ? {} : { standbyFields }),
          events: {
            ...events,
            acquired: (lease, fence) => {
              // Fence 1 is the first holder ever; every later acquisition takes it over from someone.
              if (fence > 1) this.handed++;
              events?.acquired?.(lease, fence);
            },
          },
        }),
    );
    this.leased.push(consumer);
    return consumer;
  }
}
