/**
 * The cluster torture test's projection, as a file for `thalo-runtime --projection`: it keeps the
 * bank balances in PostgreSQL tables that every node writes to, so that whichever node holds the
 * projection's lease carries on the same read model.
 *
 * Delivery is at least once, so the model is idempotent by position: an account's row moves only
 * for an event past the last position it applied. Each batch also leaves a row in `runs` (the
 * process, the positions, when it started and ended), from which the test checks that no two
 * processes ever ran the projection at the same time.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from '../store/postgres-helpers.js';

export const PROJECTION_NAME = 'cluster-balances';

export interface ProjectionRun {
  pid: number;
  first: number;
  last: number;
  events: number;
  startedAt: number;
  endedAt: number;
}

/** Create the model's tables in `schema` and write the projection file into `directory`; returns its path. */
export async function balancesProjectionFile(directory: string, url: string, schema: string): Promise<string> {
  await sql(`CREATE SCHEMA "${schema}"`);
  await sql(`CREATE TABLE "${schema}".balances (account text PRIMARY KEY, balance bigint NOT NULL, last_position bigint NOT NULL)`);
  await sql(
    `CREATE TABLE "${schema}".runs (pid integer NOT NULL, first_position bigint NOT NULL, last_position bigint NOT NULL, events integer NOT NULL, started_at double precision NOT NULL, ended_at double precision NOT NULL)`,
  );
  const pg = pathToFileURL(createRequire(import.meta.url).resolve('pg')).href;
  const file = join(directory, 'cluster-balances.mjs');
  writeFileSync(
    file,
    `import pg from ${JSON.stringify(pg)};
const pool = new pg.Pool({ connectionString: ${JSON.stringify(url)}, max: 2 });
const s = ${JSON.stringify(`"${schema}"`)};
const now = () => performance.timeOrigin + performance.now();
export default {
  name: ${JSON.stringify(PROJECTION_NAME)},
  options: { filter: { aggregates: ['bank_account'] }, batchSize: 500 },
  async handle(events, context) {
    const startedAt = now();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const e of events) {
        const account = e.stream.slice('bank_account-'.length);
        const opened = e.type === 'AccountOpened';
        const amount = Number(opened ? e.data.initial_balance : e.data.amount);
        const value = e.type === 'Withdrawn' ? -amount : amount;
        await client.query(
          \`INSERT INTO \${s}.balances AS b (account, balance, last_position) VALUES ($1, $2, $3)
           ON CONFLICT (account) DO UPDATE SET balance = CASE WHEN $4 THEN EXCLUDED.balance ELSE b.balance + EXCLUDED.balance END,
             last_position = EXCLUDED.last_position
           WHERE b.last_position < EXCLUDED.last_position\`,
          [account, value, e.position, opened],
        );
      }
      const first = events.length > 0 ? events[0].position : context.position;
      await client.query(\`INSERT INTO \${s}.runs VALUES ($1, $2, $3, $4, $5, $6)\`, [process.pid, first, context.position, events.length, startedAt, now()]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  },
};
`,
  );
  return file;
}

/** The read model as the projection left it. */
export async function projectedBalances(schema: string): Promise<Record<string, number>> {
  const rows = await sql<{ account: string; balance: string }>(`SELECT account, balance FROM "${schema}".balances`);
  return Object.fromEntries(rows.map((r) => [r.account, Number(r.balance)]));
}

export async function projectionRuns(schema: string): Promise<ProjectionRun[]> {
  const rows = await sql<Record<string, string>>(`SELECT * FROM "${schema}".runs ORDER BY started_at`);
  return rows.map((r) => ({
    pid: Number(r.pid),
    first: Number(r.first_position),
    last: Number(r.last_position),
    events: Number(r.events),
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
  }));
}

/** Batches of two processes that ran at the same time (each batch is compared with every later one that began before it ended). */
export function overlappingRuns(runs: ProjectionRun[]): string[] {
  const problems: string[] = [];
  const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  sorted.forEach((run, i) => {
    for (let j = i + 1; j < sorted.length && sorted[j]!.startedAt < run.endedAt; j++) {
      const other = sorted[j]!;
      if (other.pid !== run.pid)
        problems.push(
          `process ${run.pid} ran positions ${run.first}..${run.last} until ${run.endedAt.toFixed(1)} while process ${other.pid} began ${other.first}..${other.last} at ${other.startedAt.toFixed(1)}`,
        );
    }
  });
  return problems.slice(0, 20);
}
