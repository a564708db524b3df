/**
 * The store's tables in PostgreSQL, created and upgraded by numbered migrations.
 *
 * Migrations run when a store opens, in one transaction under an advisory lock taken per schema,
 * so that runtimes starting at once wait for each other instead of racing to create the same
 * tables; the second finds them made. Each migration applied is a row of `schema_version`. A
 * database whose highest row is past the last migration this code knows was written by a newer
 * release, and is refused (`STORE_SCHEMA_UNSUPPORTED`) rather than written in an older format.
 *
 * Text that the store compares or lists in order (stream names, command ids, checkpoint names)
 * uses the "C" collation: byte order, as LMDB's, and what a prefix read needs.
 */
import type pg from 'pg';
import { ThaloError } from '../../errors.js';
import { quoteIdentifier } from './connection.js';

/** The migrations, in order; each runs once per schema. `s` is the quoted schema name. */
const MIGRATIONS: { version: number; name: string; sql: (s: string) => string }[] = [
  {
    version: 1,
    name: 'the log, stream heads, command ids, checkpoints and snapshots',
    sql: (s) => `
      CREATE TABLE ${s}.log_head (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        position bigint NOT NULL
      );
      INSERT INTO ${s}.log_head (position) VALUES (0);
      CREATE TABLE ${s}.events (
        position bigint PRIMARY KEY,
        stream text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        id text NOT NULL,
        type text NOT NULL,
        data bytea NOT NULL,
        recorded_at bigint NOT NULL,
        metadata bytea,
        previous bigint NOT NULL,
        UNIQUE (stream, seq)
      );
      CREATE TABLE ${s}.streams (
        stream text COLLATE "C" PRIMARY KEY,
        version bigint NOT NULL,
        last_position bigint NOT NULL
      );
      CREATE TABLE ${s}.commands (
        command_id text COLLATE "C" PRIMARY KEY,
        stream text COLLATE "C" NOT NULL,
        first_position bigint NOT NULL,
        count integer NOT NULL,
        version bigint NOT NULL,
        recorded_at bigint NOT NULL
      );
      CREATE INDEX commands_recorded_at ON ${s}.commands (recorded_at);
      CREATE TABLE ${s}.checkpoints (
        name text COLLATE "C" PRIMARY KEY,
        position bigint NOT NULL
      );
      CREATE TABLE ${s}.snapshots (
        stream text COLLATE "C" PRIMARY KEY,
        seq bigint NOT NULL,
        state bytea NOT NULL
      );`,
  },
  {
    version: 2,
    name: 'cluster membership: the nodes and their leases',
    // Times are the database's (now()), never a node's: every node judges leases by one clock.
    // src/cluster/membership.ts writes and reads this table.
    sql: (s) => `
      CREATE TABLE ${s}.cluster_nodes (
        id text COLLATE "C" PRIMARY KEY,
        url text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        renewed_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );`,
  },
  {
    version: 3,
    name: 'cluster leases of projections and relays, and modules kept in the store',
    sql: (s) => `
      CREATE TABLE ${s}.leases (
        name text COLLATE "C" PRIMARY KEY,
        holder text,
        fence bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        acquired_at timestamptz NOT NULL
      );
      CREATE TABLE ${s}.modules (
        name text COLLATE "C" PRIMARY KEY,
        sha256 text NOT NULL,
        bytes bytea NOT NULL,
        revision bigint NOT NULL,
        published_at timestamptz NOT NULL,
        published_by text NOT NULL
      );`,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Creates `schema` and its tables, or brings them up to `SCHEMA_VERSION`. Safe to run from many
 * processes at once. Throws `STORE_SCHEMA_UNSUPPORTED` when the schema is newer than this code.
 */
export async function migrate(client: pg.ClientBase, schema: string, where: string): Promise<number> {
  const s = quoteIdentifier(schema);
  await client.query('BEGIN');
  try {
    // One lock per schema (the first key marks it as ours), held until the transaction ends.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('thalo-node migrations'), hashtext($1))`, [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${s}.schema_version`);
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new ThaloError(
        'STORE_SCHEMA_UNSUPPORTED',
        `the PostgreSQL event store at ${where}, schema "${schema}", was written by a newer release of thalo-node (schema version ${current}; this release knows up to ${SCHEMA_VERSION}); upgrade thalo-node, or use another schema`,
        { data: { schema, version: current, supported: SCHEMA_VERSION } },
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.schema_version (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
    return current;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
