/**
 * Projections and relays of a cluster, with `thalo-runtime` as processes: two nodes on one
 * PostgreSQL schema (`--advertise`, `--cluster-token`), each given the same projection file and
 * the same Redis relay. Exactly one node runs each; SIGKILL that node and the other takes over
 * within seconds from the stored checkpoints: every event reaches the projection's read model
 * and the Redis stream at least once, across the hand-over.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS, removeBrokerData, requireService, skipped } from '../services.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres, startProxy } from '../store/postgres-helpers.js';
import { execute, request, startRuntime, tempRoot } from '../server/runtime-process.js';
import type { RuntimeProcess } from '../server/runtime-process.js';

const schema = freshSchema();
const schemas = [schema];
const redisKey = `thalo_test_cluster_${randomBytes(4).toString('hex')}`;
const RELAY = `redis://127.0.0.1:${REDIS.port}?template=${redisKey}`;
const RELAY_NAME = `relay:${RELAY}`;
const LEASE_MS = 1_500;

/** A projection file that appends each delivered position to the file its node names. */
const PROJECTION = `import { appendFileSync } from 'node:fs';
export default {
  name: 'positions',
  handle: (events) => appendFileSync(process.env.POSITIONS_FILE, events.map((e) => e.position + '\\n').join('')),
  options: { pollIntervalMs: 200 },
};
`;

interface Node {
  name: string;
  runtime: RuntimeProcess;
  positions: string;
}

async function startNode(name: string, store = { url: POSTGRES.url, schema }, relay = true): Promise<Node> {
  const root = tempRoot();
  const file = join(root.root, 'positions.mjs');
  writeFileSync(file, PROJECTION);
  const positions = join(root.root, 'positions.txt');
  const runtime = await startRuntime({
    root,
    args: [
      '--workers',
      '1',
      '--store',
      store.url,
      '--schema',
      store.schema,
      '--advertise',
      'http://127.0.0.1:1',
      '--cluster-token',
      'cluster-secret',
      '--lease-ms',
      String(LEASE_MS),
      '--projection',
      file,
      ...(relay ? ['--relay', RELAY] : []),
    ],
    env: { POSITIONS_FILE: positions },
  });
  return { name, runtime, positions };
}

function delivered(node: Node): number[] {
  return existsSync(node.positions) ? readFileSync(node.positions, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
}

async function consumer(node: Node, name: string): Promise<Record<string, unknown>> {
  const { body } = await request(`${node.runtime.url}/v1/projections`);
  return body.projections.find((p: { name: string }) => p.name === name);
}

async function relayedPositions(): Promise<number[]> {
  const client = new Redis(REDIS.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const rows = await client.xrange(redisKey, '-', '+');
    return rows.map(([, fields]) => Number(fields[fields.indexOf('position') + 1]));
  } finally {
    client.disconnect();
  }
}

async function increments(node: Node, count: number, tag: string): Promise<number> {
  let last = 0;
  for (let i = 0; i < count; i++) {
    const { status, body } = await execute(node.runtime.url, 'counter', `${tag}-${i % 3}`, 'Increment', { amount: 1 });
    expect(status).toBe(200);
    last = body.events[0].position;
  }
  return last;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe.skipIf(postgresSkipped || skipped(REDIS))('a cluster runs each projection and relay on one node', () => {
  beforeAll(async () => {
    await requirePostgres();
    await requireService(REDIS);
  });
  afterAll(async () => {
    await removeBrokerData({ redisKeys: [redisKey] });
    await dropSchemas(schemas);
  });

  it('runs them on the holder only, and hands them over from the checkpoints when the holder is SIGKILLed', async () => {
    // The first node takes both leases before the second starts, so the kill hits both at once.
    const a = await startNode('a');
    await a.runtime.waitForLog((l) => l.msg.startsWith('lease acquired: projection:positions'));
    await a.runtime.waitForLog((l) => l.msg.startsWith(`lease acquired: ${'relay:' + RELAY_NAME}`));
    const b = await startNode('b');
    const before = await increments(b, 12, 'before');
    await expect.poll(() => delivered(a).length, { timeout: 10_000 }).toBe(before);
    await expect.poll(async () => (await consumer(a, 'positions')).position, { timeout: 10_000 }).toBe(before);
    await expect.poll(async () => (await relayedPositions()).length, { timeout: 10_000 }).toBe(before);

    // Exactly one node runs each, and the other says who does.
    expect(await consumer(a, 'positions')).toMatchObject({ kind: 'projection', status: 'running', runningHere: true, fence: 1 });
    await expect
      .poll(async () => consumer(b, 'positions'), { timeout: 5_000 })
      .toMatchObject({ status: 'standby', runningHere: false, position: before, fence: 1 });
    const holder = (await consumer(a, 'positions')).holder;
    expect((await consumer(b, 'positions')).holder).toBe(holder);
    expect(await consumer(b, RELAY_NAME)).toMatchObject({ kind: 'relay', status: 'standby', runningHere: false });
    expect(delivered(b)).toEqual([]);
    // A reset is the holder's to do: the node standing by refuses it, naming the holder.
    const reset = await request(`${b.runtime.url}/v1/projections/positions/reset`, { method: 'POST' });
    expect(reset).toMatchObject({ status: 409, body: { code: 'LEASE_NOT_HELD', data: { name: 'positions', holder } } });

    // SIGKILL the holder while commands keep coming to the other node.
    a.runtime.child.kill('SIGKILL');
    await a.runtime.exited;
    const killedAt = Date.now();
    const after = await increments(b, 12, 'after');
    const acquired = await b.runtime.waitForLog((l) => l.msg.startsWith('lease acquired: projection:positions'), 15_000);
    const tookOverMs = Date.parse(acquired.time as string) - killedAt;
    await expect.poll(() => delivered(b).at(-1), { timeout: 15_000 }).toBe(after);
    await expect.poll(async () => (await relayedPositions()).at(-1), { timeout: 15_000 }).toBe(after);

    // At least once across the hand-over: every position in the union, in order on each node.
    const read = [...delivered(a), ...delivered(b)];
    expect([...new Set(read)].sort((x, y) => x - y)).toEqual(range(after));
    expect(delivered(b)[0]).toBeGreaterThan(0);
    expect(delivered(b)[0]).toBeLessThanOrEqual(before + 1);
    expect([...new Set(await relayedPositions())].sort((x, y) => x - y)).toEqual(range(after));
    expect(await consumer(b, 'positions')).toMatchObject({ status: 'running', runningHere: true, fence: 2, position: after });
    const metrics = (await request(`${b.runtime.url}/metrics`)).body as string;
    expect(metrics).toMatch(/^thalo_lease_handovers_total 2$/m);
    expect(metrics).toMatch(/^thalo_leases_held 2$/m);
    // The lease lasts 1.5 s after its last renewal; the other node tries every 0.5 s.
    expect(tookOverMs).toBeLessThan(10_000);
    console.log(`hand-over after SIGKILL: lease acquired by the other node ${tookOverMs} ms after the kill (lease ${LEASE_MS} ms)`);
    expect(await b.runtime.stop()).toBe(0);
  });

  it('hands a projection over when its holder loses PostgreSQL: the holder stops it before its lease expires', async () => {
    const proxy = await startProxy();
    const cutSchema = freshSchema();
    schemas.push(cutSchema);
    const a = await startNode('a', { url: proxy.url, schema: cutSchema }, false);
    await a.runtime.waitForLog((l) => l.msg.startsWith('lease acquired: projection:positions'));
    const b = await startNode('b', { url: POSTGRES.url, schema: cutSchema }, false);
    const before = await increments(b, 6, 'cut-before');
    await expect.poll(() => delivered(a).at(-1), { timeout: 10_000 }).toBe(before);

    await proxy.cut();
    const cutAt = Date.now();
    const lost = await a.runtime.waitForLog((l) => l.msg.startsWith('lease lost: projection:positions'), 15_000);
    expect(lost).toMatchObject({ reason: 'expired', fence: 1 });
    const acquired = await b.runtime.waitForLog((l) => l.msg.startsWith('lease acquired: projection:positions') && l.fence === 2, 15_000);
    const tookOverMs = Date.parse(acquired.time as string) - cutAt;
    // Both processes log on this machine's clock: the cut-off holder stopped first.
    expect(Date.parse(lost.time as string)).toBeLessThan(Date.parse(acquired.time as string));
    const after = await increments(b, 6, 'cut-after');
    await expect.poll(() => delivered(b).at(-1), { timeout: 10_000 }).toBe(after);
    expect([...new Set([...delivered(a), ...delivered(b)])].sort((x, y) => x - y)).toEqual(range(after));
    // The node cut off ran nothing after it stopped the projection.
    expect(delivered(a).at(-1)).toBe(before);
    expect(await consumer(b, 'positions')).toMatchObject({ status: 'running', runningHere: true, fence: 2 });
    console.log(`hand-over after the holder lost PostgreSQL: ${tookOverMs} ms (lease ${LEASE_MS} ms)`);
    expect(tookOverMs).toBeLessThan(10_000);
    a.runtime.child.kill('SIGKILL');
    await proxy.close();
    expect(await b.runtime.stop()).toBe(0);
  });
});
