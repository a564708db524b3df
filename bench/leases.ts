/**
 * What a cluster's fence costs a projection: the latency of a checkpoint write fenced by its lease
 * (`LeaseTable.writeCheckpoint`: the upsert with the lease row locked `FOR SHARE`) against the
 * store's plain `setCheckpoint`, on the same PostgreSQL, interleaved round by round so that load
 * from other work on the machine falls on both alike. A projection writes one checkpoint per batch
 * (up to 1,000 events), so this is per batch, not per event. Also the latency of a lease renewal.
 *
 * Environment: THALO_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_ROUNDS (default 2,000).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LeaseTable } from '../src/cluster/index.js';
import { createPool } from '../src/store/postgres/connection.js';
import { PostgresEventStore } from '../src/store/postgres/index.js';
import { describeMachine, percentile } from './machine.js';

const URL = process.env.THALO_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2_000);

async function main(): Promise<void> {
  const schema = `thalo_bench_${randomBytes(4).toString('hex')}`;
  const store = await PostgresEventStore.open({ url: URL, schema });
  const pool = createPool({ url: URL, size: 2, statementTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
  const table = new LeaseTable(pool, schema);
  try {
    const lease = await table.acquire('projection:bench', 'node', 60_000);
    if (lease === undefined) throw new Error('the bench lease was not free');
    const plain: number[] = [];
    const fenced: number[] = [];
    const renew: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      let t = performance.now();
      await store.setCheckpoint('plain', round);
      plain.push(performance.now() - t);
      t = performance.now();
      if (!(await table.writeCheckpoint('projection:bench', 'node', lease.fence, 'fenced', round))) throw new Error('fenced write refused');
      fenced.push(performance.now() - t);
      if (round % 10 === 0) {
        t = performance.now();
        await table.renew('projection:bench', 'node', lease.fence, 60_000);
        renew.push(performance.now() - t);
      }
    }
    const row = (name: string, samples: number[]) => {
      const sorted = [...samples].sort((x, y) => x - y);
      return `${name.padEnd(24)} p50 ${percentile(sorted, 50).toFixed(3)} ms   p99 ${percentile(sorted, 99).toFixed(3)} ms   (${sorted.length} samples)`;
    };
    console.log(describeMachine());
    console.log(`checkpoint writes, interleaved, ${ROUNDS} rounds, durable (synchronous_commit as the server says):`);
    console.log(row('plain setCheckpoint', plain));
    console.log(row('fenced writeCheckpoint', fenced));
    console.log(row('lease renewal', renew));
  } finally {
    await pool.end();
    await store.close();
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`DROP SCHEMA "${schema}" CASCADE`);
    await client.end();
  }
}

await main();
