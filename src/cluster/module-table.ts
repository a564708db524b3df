/**
 * The `modules` table: the aggregate modules of a cluster, kept in the store so that every node
 * serves the same ones. One row per module name, with its bytes, their SHA-256, a revision that
 * grows by one at each publish of different bytes, and when and by which node it was published.
 */
import type pg from 'pg';
import { createPool, quoteIdentifier } from '../store/postgres/connection.js';

/** A module's revision in the store, without its bytes. */
export interface StoredModule {
  name: string;
  sha256: string;
  revision: number;
  /** Milliseconds since the epoch, by the database's clock. */
  publishedAt: number;
  /** The id of the node that published it. */
  publishedBy: string;
}

export class ModuleTable {
  private readonly s: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.s = quoteIdentifier(schema);
  }

  /** A table on a pool of its own (two connections), apart from the leases' renewals. */
  static open(url: string, schema: string): ModuleTable {
    return new ModuleTable(createPool({ url, size: 2, statementTimeoutMs: 15_000, connectTimeoutMs: 5_000 }), schema);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Keep `bytes` as module `name`: a new revision when they differ from the stored ones, else the
   * stored revision unchanged (a node publishing what it installed from the store moves nothing).
   */
  async publish(name: string, bytes: Uint8Array, sha256: string, by: string): Promise<StoredModule> {
    const { rows } = await this.pool.query<StoredModule>(
      `INSERT INTO ${this.s}.modules AS m (name, sha256, bytes, revision, published_at, published_by)
         VALUES ($1, $2, $3, 1, now(), $4)
       ON CONFLICT (name) DO UPDATE
         SET sha256 = excluded.sha256, bytes = excluded.bytes, revision = m.revision + 1,
             published_at = excluded.published_at, published_by = excluded.published_by
         WHERE m.sha256 <> excluded.sha256
       RETURNING ${COLUMNS}`,
      [name, sha256, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), by],
    );
    if (rows[0] !== undefined) return rows[0];
    const { rows: stored } = await this.pool.query<StoredModule>(`SELECT ${COLUMNS} FROM ${this.s}.modules WHERE name = $1`, [name]);
    return stored[0]!;
  }

  /** Every module's newest revision, by name (no bytes: a node reads those only for what changed). */
  async list(): Promise<StoredModule[]> {
    const { rows } = await this.pool.query<StoredModule>(`SELECT ${COLUMNS} FROM ${this.s}.modules ORDER BY name`);
    return rows;
  }

  /** A module's newest revision with its bytes. */
  async read(name: string): Promise<(StoredModule & { bytes: Uint8Array }) | undefined> {
    const { rows } = await this.pool.query<StoredModule & { bytes: Buffer }>(
      `SELECT ${COLUMNS}, bytes FROM ${this.s}.modules WHERE name = $1`,
      [name],
    );
    return rows[0];
  }
}

const COLUMNS = `name, sha256, revision, (extract(epoch FROM published_at) * 1000)::bigint AS "publishedAt", published_by AS "publishedBy"`;
