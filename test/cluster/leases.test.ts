/**
 * Leases of projections and relays against a real PostgreSQL (a fresh schema per test): one
 * winner among contenders, a take-over with fence + 1 after the expiry, a paused former holder
 * whose checkpoint writes are refused and move nothing (at the table and through a projection),
 * and a holder cut off from the database that stops its consumer before its lease can expire.
 */
import { pack } from 'msgpackr';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterLeases, LeaseKeeper, LeaseTable, fencedCheckpoints } from '../../src/cluster/index.js';
import type { LeaseLoss } from '../../src/cluster/index.js';
import { isThaloError } from '../../src/errors.js';
import { Consumers, Projection } from '../../src/projections/index.js';
import type { EventLog } from '../../src/protocol/event-log.js';
import { createPool } from '../../src/store/postgres/connection.js';
import { PostgresEventStore } from '../../src/store/postgres/index.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres, sql, startProxy } from '../store/postgres-helpers.js';

const schemas: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

/** A migrated fresh schema and its store (which made the tables). */
async function freshStore(): Promise<{ schema: string; store: PostgresEventStore }> {
  const schema = freshSchema();
  schemas.push(schema);
  const store = await PostgresEventStore.open({ url: POSTGRES.url, schema });
  cleanups.push(() => store.close());
  return { schema, store };
}

function pool(url = POSTGRES.url): pg.Pool {
  const p = createPool({ url, size: 2, statementTimeoutMs: 2_000, connectTimeoutMs: 1_000 });
  cleanups.push(() => p.end());
  return p;
}

/** The store as the narrow log a projection reads (no commit notices: it polls). */
function logOf(store: PostgresEventStore): EventLog {
  return {
    readAll: (options) => store.readAll(options),
    lastPosition: () => store.lastPosition(),
    getCheckpoint: (name) => store.getCheckpoint(name),
    setCheckpoint: (name, position) => store.setCheckpoint(name, position),
    advanceCheckpoint: (name, position) => store.advanceCheckpoint(name, position),
    deleteCheckpoint: (name) => store.deleteCheckpoint(name),
    listCheckpoints: (prefix) => store.listCheckpoints(prefix),
    onCommit: () => () => undefined,
    onClose: () => () => undefined,
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(postgresSkipped)('cluster leases on PostgreSQL', () => {
  beforeAll(requirePostgres);
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await dropSchemas(schemas);
  });

  it('gives a free lease to exactly one of several contenders trying at once, with fence 1', async () => {
    const { schema } = await freshStore();
    const tables = Array.from({ length: 6 }, () => new LeaseTable(pool(), schema));
    const outcomes = await Promise.all(tables.map((table, i) => table.acquire('projection:audit', `node-${i}`, 5_000)));
    const winners = outcomes.flatMap((outcome, i) => (outcome === undefined ? [] : [{ node: `node-${i}`, ...outcome }]));
    expect(winners).toHaveLength(1);
    expect(winners[0]!.fence).toBe(1);
    expect(winners[0]!.expiresInMs).toBeGreaterThan(4_000);
    const [row] = await sql(`SELECT holder, fence FROM "${schema}".leases WHERE name = 'projection:audit'`);
    expect(row).toEqual({ holder: winners[0]!.node, fence: '1' });
    // The losers keep losing while the winner renews.
    expect(await tables[0]!.renew('projection:audit', winners[0]!.node, 1, 5_000)).toBe(true);
    for (const [i, table] of tables.entries())
      if (`node-${i}` !== winners[0]!.node) expect(await table.acquire('projection:audit', `node-${i}`, 5_000)).toBeUndefined();
  });

  it('lets another node take an expired lease with fence + 1, and the former holder can no longer renew it', async () => {
    const { schema } = await freshStore();
    const table = new LeaseTable(pool(), schema);
    expect(await table.acquire('relay:r', 'a', 300)).toMatchObject({ fence: 1 });
    expect(await table.acquire('relay:r', 'b', 300)).toBeUndefined();
    await until(async () => (await table.acquire('relay:r', 'b', 5_000)) !== undefined);
    expect(await table.get('relay:r')).toMatchObject({ holder: 'b', fence: 2 });
    expect(await table.renew('relay:r', 'a', 1, 5_000)).toBe(false);
    // A clean release frees it at once; the next holder gets fence 3.
    await table.release('relay:r', 'b', 2);
    expect(await table.acquire('relay:r', 'a', 5_000)).toMatchObject({ fence: 3 });
  });

  it("refuses a paused former holder's checkpoint writes, back or forward, and moves nothing", async () => {
    const { schema } = await freshStore();
    const table = new LeaseTable(pool(), schema);
    await table.acquire('projection:p', 'a', 200);
    expect(await table.writeCheckpoint('projection:p', 'a', 1, 'p', 10)).toBe(true);
    await until(async () => (await table.acquire('projection:p', 'b', 5_000)) !== undefined);
    // "a" wakes up from its pause still believing it holds fence 1.
    expect(await table.writeCheckpoint('projection:p', 'a', 1, 'p', 5)).toBe(false);
    expect(await table.writeCheckpoint('projection:p', 'a', 1, 'p', 20)).toBe(false);
    expect(await table.readCheckpoint('p')).toBe(10);
    expect(await table.writeCheckpoint('projection:p', 'b', 2, 'p', 15)).toBe(true);
    expect(await table.readCheckpoint('p')).toBe(15);
  });

  it('a projection whose fence went stale delivers its batch but cannot store its checkpoint, and says so', async () => {
    const { schema, store } = await freshStore();
    for (let i = 0; i < 5; i++) await store.append(`counter-${i}`, [{ type: 'Incremented', data: pack({ amount: 1 }) }]);
    const table = new LeaseTable(pool(), schema);
    await table.acquire('projection:audit', 'a', 200);
    expect(await table.writeCheckpoint('projection:audit', 'a', 1, 'audit', 2)).toBe(true);
    await until(async () => (await table.acquire('projection:audit', 'b', 5_000)) !== undefined);

    const refusals: number[] = [];
    const seen: number[] = [];
    const projection = new Projection('audit', (events) => void seen.push(...events.map((e) => e.position)), logOf(store), {
      checkpoints: fencedCheckpoints({ table, lease: 'projection:audit', holder: 'a', fence: 1, refused: (f) => refusals.push(f) }),
      pollIntervalMs: 50,
    });
    await projection.ready();
    await until(() => refusals.length > 0);
    await projection.stop();
    // It read from the stored checkpoint, delivered (at-least-once: the new holder delivers again)...
    expect(seen).toEqual([3, 4, 5]);
    // ...and stored nothing: the checkpoint is where the old fence left it.
    expect(refusals).toEqual([1]);
    expect(await table.readCheckpoint('audit')).toBe(2);
    expect(projection.info().lastError).toMatch(/no longer this node's under fence 1/);
    // A reset by a stale holder is refused the same way, with its code.
    const error = await fencedCheckpoints({ table, lease: 'projection:audit', holder: 'a', fence: 1, refused: () => undefined })
      .set('audit', 0)
      .catch((e: unknown) => e);
    expect(isThaloError(error, 'LEASE_NOT_HELD')).toBe(true);
    expect(await table.readCheckpoint('audit')).toBe(2);
  });

  it('a holder cut off from the database stops its consumer before its lease expires, and another node takes over', async () => {
    const { schema } = await freshStore();
    const proxy = await startProxy();
    cleanups.push(() => proxy.close());
    const leaseMs = 900;
    const events: { what: string; fence: number; reason?: LeaseLoss; dbRemainingMs?: number }[] = [];
    const direct = new LeaseTable(pool(), schema);
    const keeper = new LeaseKeeper({
      table: new LeaseTable(pool(proxy.url), schema),
      name: 'projection:p',
      holder: 'a',
      leaseMs,
      acquired: (fence) => void events.push({ what: 'acquired', fence }),
      lost: async (fence, reason) => {
        // What the database says at the moment the consumer is stopped.
        const row = await direct.get('projection:p');
        events.push({ what: 'lost', fence, reason, dbRemainingMs: row!.expiresInMs });
      },
    });
    cleanups.push(() => keeper.stop());
    keeper.start();
    await until(() => events.length === 1);
    // Renewals go on while connected: after several lease lengths it still holds fence 1.
    await new Promise((r) => setTimeout(r, leaseMs * 2));
    expect(keeper.fence).toBe(1);
    await proxy.cut();
    await until(() => events.length === 2);
    const lost = events[1]!;
    expect(lost).toMatchObject({ what: 'lost', fence: 1, reason: 'expired' });
    expect(lost.dbRemainingMs, 'the lease was still valid in the database when the consumer stopped').toBeGreaterThan(0);
    expect(keeper.fence).toBeUndefined();
    // Another node takes it once it expires, with the next fence.
    await until(async () => (await direct.acquire('projection:p', 'b', 5_000)) !== undefined);
    expect(await direct.get('projection:p')).toMatchObject({ holder: 'b', fence: 2 });
    await proxy.restore();
  });

  it('gives a lease back at once when its consumer cannot start, rather than holding it while running nothing', async () => {
    const { schema } = await freshStore();
    const table = new LeaseTable(pool(), schema);
    const losses: LeaseLoss[] = [];
    const errors: unknown[] = [];
    const keeper = new LeaseKeeper({
      table,
      name: 'relay:r',
      holder: 'a',
      leaseMs: 60_000,
      acquired: () => {
        throw new Error('the broker client failed to load');
      },
      lost: (_fence, reason) => void losses.push(reason),
      onError: (error) => void errors.push(error),
    });
    cleanups.push(() => keeper.stop());
    keeper.start();
    await until(() => losses.length > 0);
    expect(losses[0]).toBe('failed');
    expect(String(errors[0])).toContain('the broker client failed to load');
    // Released, not left to expire a minute later: another node takes it now.
    await until(async () => (await table.get('relay:r'))?.holder === null);
    expect(await table.acquire('relay:r', 'b', 5_000)).toMatchObject({ fence: 2 });
  });

  it('runs a leased projection on one of two nodes; a clean stop hands it to the other from the checkpoint', async () => {
    const { schema, store } = await freshStore();
    for (let i = 0; i < 4; i++) await store.append(`counter-${i}`, [{ type: 'Incremented', data: pack({ amount: 1 }) }]);
    const log = logOf(store);
    const delivered = { a: [] as number[], b: [] as number[] };
    const nodes = (['a', 'b'] as const).map((node) => {
      const leases = ClusterLeases.open({ url: POSTGRES.url, schema, nodeId: node, leaseMs: 600 });
      cleanups.push(() => leases.stop());
      const consumer = leases.project(
        new Consumers(log),
        'audit',
        (events) => void delivered[node].push(...events.map((e) => e.position)),
        {
          pollIntervalMs: 50,
        },
      );
      return { node, leases, consumer };
    });
    await until(() => nodes.some((n) => n.consumer.runningHere) && delivered.a.length + delivered.b.length === 4);
    const holder = nodes.find((n) => n.consumer.runningHere)!;
    const other = nodes.find((n) => n !== holder)!;
    expect(other.consumer.runningHere).toBe(false);
    await until(() => holder.consumer.info().position === 4);
    await until(() => other.consumer.info().holder === holder.node);
    expect(other.consumer.info()).toMatchObject({ status: 'standby', runningHere: false, holder: holder.node, fence: 1 });
    expect(await holder.leases.listLeases()).toEqual([
      { name: 'audit', kind: 'projection', holder: holder.node, fence: 1, expiresInMs: expect.any(Number) },
    ]);

    await holder.leases.stop();
    await until(() => other.consumer.runningHere);
    for (let i = 0; i < 2; i++) await store.append(`counter-${i}`, [{ type: 'Incremented', data: pack({ amount: 1 }) }]);
    await until(() => other.consumer.info().position === 6);
    // The new holder started from the stored checkpoint: nothing of the first four again, nothing skipped.
    expect(delivered[holder.node]).toEqual([1, 2, 3, 4]);
    expect(delivered[other.node]).toEqual([5, 6]);
    expect(other.consumer.info()).toMatchObject({ runningHere: true, holder: other.node, fence: 2 });
    expect(other.leases.handovers()).toBe(1);
    expect(other.leases.leasesHeld()).toBe(1);
  });
});
