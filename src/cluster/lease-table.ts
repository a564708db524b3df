/**
 * The `leases` table: one row per projection or relay of a cluster (`projection:<name>`,
 * `relay:<name>`), with its holder (a node id), a fencing token and an expiry. Every statement
 * here decides by the DATABASE clock (`now()`), so nodes whose clocks disagree still agree on
 * who holds what; a node only ever compares its own elapsed time (see lease-keeper.ts).
 *
 * The fence grows by one at every acquisition, and a checkpoint write under a lease carries the
 * fence it was acquired with (`writeCheckpoint`): the write and the fence check are one statement
 * that takes a share lock on the lease row, so an acquisition by another node either waits for
 * the write to commit (and the new holder then reads the checkpoint it wrote) or commits first
 * (and the write finds the fence changed and moves nothing). A paused former holder can never
 * move a checkpoint, back or forward, once another node took over.
 */
import type pg from 'pg';
import { quoteIdentifier } from '../store/postgres/connection.js';

/** A lease this node acquired: its fence, and how long it lasts by the database's clock. */
export interface AcquiredLease {
  fence: number;
  expiresInMs: number;
}

/** A lease row as it is now, with the checkpoint of the same consumer (for a node standing by). */
export interface LeaseRow {
  name: string;
  holder: string | null;
  fence: number;
  expiresInMs: number;
}

export class LeaseTable {
  private readonly s: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.s = quoteIdentifier(schema);
  }

  /**
   * Take lease `name` for `holder` when nobody holds it or its holder let it expire: in one
   * statement, so two nodes trying at once cannot both win. Undefined when another holds it (or
   * `holder` itself still does: a node that gave up a lease it still holds waits for the expiry).
   */
  async acquire(name: string, holder: string, leaseMs: number): Promise<AcquiredLease | undefined> {
    const { rows } = await this.pool.query<{ fence: number; remaining: number }>(
      `INSERT INTO ${this.s}.leases AS l (name, holder, fence, expires_at, acquired_at)
         VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond', now())
       ON CONFLICT (name) DO UPDATE
         SET holder = excluded.holder, fence = l.fence + 1, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
         WHERE l.holder IS NULL OR l.expires_at <= now()
       RETURNING fence, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS remaining`,
      [name, holder, leaseMs],
    );
    const row = rows[0];
    return row === undefined ? undefined : { fence: row.fence, expiresInMs: row.remaining };
  }

  /**
   * Push the expiry of a lease `holder` holds under `fence` to `leaseMs` from now. False when the
   * lease is no longer its own under that fence, or it expired (another node may be taking it).
   */
  async renew(name: string, holder: string, fence: number, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.s}.leases SET expires_at = now() + $4 * interval '1 millisecond'
        WHERE name = $1 AND holder = $2 AND fence = $3 AND expires_at > now()`,
      [name, holder, fence, leaseMs],
    );
    return rowCount === 1;
  }

  /** Give a lease up at once (a clean stop), so another node takes it without waiting for the expiry. */
  async release(name: string, holder: string, fence: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.s}.leases SET holder = NULL, expires_at = now() WHERE name = $1 AND holder = $2 AND fence = $3`, [
      name,
      holder,
      fence,
    ]);
  }

  /** Every lease row, by name; `expiresInMs` by the database's clock (0 or less: expired). */
  async list(): Promise<LeaseRow[]> {
    const { rows } = await this.pool.query<LeaseRow>(
      `SELECT name, holder, fence, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS "expiresInMs"
         FROM ${this.s}.leases ORDER BY name`,
    );
    return rows;
  }

  /** One lease row, if it exists. */
  async get(name: string): Promise<LeaseRow | undefined> {
    const { rows } = await this.pool.query<LeaseRow>(
      `SELECT name, holder, fence, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS "expiresInMs"
         FROM ${this.s}.leases WHERE name = $1`,
      [name],
    );
    return rows[0];
  }

  /**
   * Store checkpoint `checkpoint` = `position` only while lease `lease` is `holder`'s under
   * `fence`: true when stored, false when the fence is stale (nothing moved). The share lock
   * (`FOR SHARE`) makes a concurrent acquisition wait for this statement, or makes this statement
   * see the acquisition and write nothing.
   */
  async writeCheckpoint(lease: string, holder: string, fence: number, checkpoint: string, position: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `WITH current_fence AS (
         SELECT 1 FROM ${this.s}.leases WHERE name = $1 AND holder = $2 AND fence = $3 FOR SHARE
       )
       INSERT INTO ${this.s}.checkpoints (name, position) SELECT $4, $5 FROM current_fence
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
      [lease, holder, fence, checkpoint, position],
    );
    return rowCount === 1;
  }

  /** A checkpoint as stored (the same table the store's `getCheckpoint` reads). */
  async readCheckpoint(checkpoint: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ position: number }>(`SELECT position FROM ${this.s}.checkpoints WHERE name = $1`, [
      checkpoint,
    ]);
    return rows[0]?.position;
  }
}
