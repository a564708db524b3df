/**
 * Cluster membership: each node keeps a row in the store's `cluster_nodes` table (migration 2,
 * src/store/postgres/schema.ts) and renews its lease every third of `leaseMs`. Leases are judged
 * by the DATABASE clock (`now()`), so nodes whose clocks disagree still agree on who is live; at
 * each renewal the node reads the live members back, and ownership (rendezvous.ts) is computed
 * over that list.
 *
 * A node judges its own lease conservatively, by its monotonic clock: it counts itself live until
 * `leaseMs` after it SENT its last successful renewal, less a margin. The database set the expiry
 * to its `now()` plus `leaseMs`, and its `now()` came after the send, so the node stops serving
 * before the others stop counting it. A node that cannot renew in time is out of the cluster: it
 * refuses commands (`NODE_NOT_IN_CLUSTER`) and fails `/readyz` until a renewal succeeds again.
 *
 * The membership has its own small pool (2 connections), so that a store busy with commits never
 * delays a renewal past its lease.
 *
 * @example
 *   const membership = await Membership.join(cluster, { url: store, schema: 'thalo' });
 *   membership.onChange((view) => log(view.live, view.members.length));
 *   membership.isLive(); membership.members();
 *   await membership.leave();   // on a clean stop: the others re-hash at once
 */
import type pg from 'pg';
import { ThaloError } from '../errors.js';
import { createPool, isUnavailable, quoteIdentifier, unavailable } from '../store/postgres/connection.js';
import type { ClusterOptions } from './cluster-options.js';
import type { ClusterMember, MembershipView } from './types.js';

/** A node stops counting itself live this long before its lease would expire (timer and scheduling slack). */
const SELF_MARGIN_MS = 100;

/** Rows whose lease expired this many lease lengths ago are deleted (a node killed without leaving). */
const FORGET_AFTER_LEASES = 20;

export interface MembershipStore {
  /** The PostgreSQL store's URL (`--store`). */
  url: string;
  /** The store's schema (`--schema`). */
  schema: string;
}

interface MemberRow {
  id: string;
  url: string;
  started_at: number;
  lease_age_ms: number;
}

export class Membership {
  private view: MembershipView = { live: false, members: [] };
  /** `performance.now()` when the last successful renewal was sent. */
  private renewedAt = -Infinity;
  private readonly listeners = new Set<(view: MembershipView) => void>();
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private renewing: Promise<void> | undefined;
  private lastError: string | undefined;
  private readonly table: string;

  private constructor(
    readonly self: ClusterOptions,
    private readonly pool: pg.Pool,
    private readonly where: string,
    schema: string,
  ) {
    this.table = `${quoteIdentifier(schema)}.cluster_nodes`;
  }

  /**
   * Registers this node and starts renewing its lease. Fails with `STORE_UNAVAILABLE` when the
   * first registration cannot reach the database. The table must exist (the store's migrations
   * made it when the engine opened the store).
   */
  static async join(self: ClusterOptions, store: MembershipStore): Promise<Membership> {
    const pool = createPool({
      url: store.url,
      size: 2,
      // A renewal that takes longer than a lease is worthless: give up on it and try again.
      statementTimeoutMs: self.leaseMs,
      connectTimeoutMs: Math.max(200, Math.floor(self.leaseMs / 3)),
    });
    const membership = new Membership(self, pool, store.url, store.schema);
    try {
      await membership.renew();
      if (!membership.view.live) throw unavailable(store.url, membership.lastError ?? 'the first lease renewal failed');
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    membership.schedule();
    return membership;
  }

  /** Whether this node holds a current lease: it forwards and executes commands only while it does. */
  isLive(): boolean {
    return this.view.live && performance.now() < this.renewedAt + this.self.leaseMs - SELF_MARGIN_MS;
  }

  /** The live members after the last renewal, sorted by id (empty while this node is out). */
  members(): ClusterMember[] {
    return this.isLive() ? this.view.members : [];
  }

  /** Why the last renewal failed, while this node is out of the cluster. */
  error(): string | undefined {
    return this.isLive() ? undefined : this.lastError;
  }

  /**
   * Call `listener` when this node goes out of the cluster or back in, or the live members change.
   * Returns the unsubscribe function.
   */
  onChange(listener: (view: MembershipView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops renewing and deletes this node's row, so that the others re-hash at their next renewal
   * instead of after the lease expires. Failing to delete is harmless: the lease expires. The
   * `onChange` listeners are not called for it: the node is stopping, not losing its lease.
   */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.expiryTimer);
    await this.renewing;
    this.listeners.clear();
    this.update({ live: false, members: [] });
    await this.pool.query(`DELETE FROM ${this.table} WHERE id = $1`, [this.self.nodeId]).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.renewTimer = setTimeout(
      () => {
        this.renewing = this.renew().finally(() => {
          this.renewing = undefined;
          this.schedule();
        });
      },
      Math.max(50, Math.floor(this.self.leaseMs / 3)),
    );
  }

  /** One renewal: upsert this node's lease, forget long-dead rows, read the live members. Never throws. */
  private async renew(): Promise<void> {
    const sentAt = performance.now();
    const { nodeId, url, leaseMs } = this.self;
    try {
      await this.pool.query(
        `INSERT INTO ${this.table} (id, url, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, renewed_at = now(), expires_at = EXCLUDED.expires_at`,
        [nodeId, url, leaseMs],
      );
      const { rows } = await this.pool.query<MemberRow>(
        `WITH forgotten AS (DELETE FROM ${this.table} WHERE expires_at < now() - $1 * interval '1 millisecond')
         SELECT id, url,
                (extract(epoch FROM started_at) * 1000)::float8 AS started_at,
                (extract(epoch FROM now() - renewed_at) * 1000)::float8 AS lease_age_ms
           FROM ${this.table} WHERE expires_at > now() ORDER BY id`,
        [leaseMs * FORGET_AFTER_LEASES],
      );
      if (this.stopped) return;
      this.renewedAt = sentAt;
      this.lastError = undefined;
      const members = rows.map((row) => ({
        id: row.id,
        url: row.url,
        startedAt: Math.round(row.started_at),
        leaseAgeMs: Math.max(0, Math.round(row.lease_age_ms)),
      }));
      this.update({ live: true, members });
      // Past this moment without another renewal, the node is out: say so when it happens.
      clearTimeout(this.expiryTimer);
      this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, sentAt + leaseMs - SELF_MARGIN_MS - performance.now()) + 1);
    } catch (error) {
      this.lastError = isUnavailable(error)
        ? unavailable(this.where, error).message
        : new ThaloError('STORE_UNAVAILABLE', `the cluster lease could not be renewed: ${(error as Error).message}`).message;
      this.expire();
    }
  }

  private expire(): void {
    if (!this.isLive() && this.view.live) this.update({ live: false, members: [] });
  }

  private update(next: MembershipView): void {
    const before = this.view;
    this.view = next;
    const same =
      before.live === next.live &&
      before.members.length === next.members.length &&
      before.members.every((member, i) => member.id === next.members[i]!.id);
    if (same) return;
    for (const listener of this.listeners) listener(next);
  }
}
