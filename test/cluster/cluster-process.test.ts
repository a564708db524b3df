/**
 * A cluster of `thalo-runtime` processes on one PostgreSQL schema: forwarding both ways (single
 * commands and batches), ownership moving as nodes join and leave (SIGTERM and SIGKILL), a node
 * cut off from PostgreSQL leaving the cluster while the others carry on, the cluster token, and
 * `GET /v1/cluster` / `thalo cluster`. The `Thalo-Node` header of each answer says which node
 * executed the command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rendezvous } from '../../src/cluster/rendezvous.js';
import { dropSchemas, freshSchema, postgresSkipped, requirePostgres, sql, startProxy } from '../store/postgres-helpers.js';
import { execute, request, startRuntime, thalo } from '../server/runtime-process.js';
import { restartablePort } from '../services.js';
import type { ClusterNodeProcess } from './cluster-helpers.js';
import { CLUSTER_TOKEN, LEASE_MS, idOwnedBy, metric, startNode, waitForMembers } from './cluster-helpers.js';

const schemas: string[] = [];

describe.skipIf(postgresSkipped)('a cluster of runtimes on one PostgreSQL', () => {
  const schema = freshSchema();
  schemas.push(schema);
  let a: ClusterNodeProcess;
  let b: ClusterNodeProcess;

  beforeAll(async () => {
    await requirePostgres();
    [a, b] = await Promise.all([startNode(schema), startNode(schema)]);
    await Promise.all([waitForMembers(a, [a.id, b.id]), waitForMembers(b, [a.id, b.id])]);
  }, 90_000);
  afterAll(() => dropSchemas(schemas));

  it('forwards a command to its owner both ways and relays the answer, which says which node executed it', async () => {
    const members = [a.id, b.id];
    for (const [entry, owner] of [
      [a, b],
      [b, a],
    ] as const) {
      const id = idOwnedBy(owner.id, members, `fwd-${entry.id.slice(0, 4)}`);
      const first = await execute(entry.url, 'counter', id, 'Increment', { amount: 2 }, { 'thalo-command-id': `c-${id}` });
      expect(first.status).toBe(200);
      expect(first.headers.get('thalo-node')).toBe(owner.id);
      expect(first.body).toMatchObject({ version: 1, duplicate: false, events: [{ type: 'Incremented', seq: 1 }] });
      // The owner's answers are relayed unchanged: a duplicate, and an error with its status and body.
      const again = await execute(entry.url, 'counter', id, 'Increment', { amount: 2 }, { 'thalo-command-id': `c-${id}` });
      expect(again.body).toMatchObject({ version: 1, duplicate: true });
      const conflict = await execute(entry.url, 'counter', id, 'Increment', { amount: 1 }, { 'thalo-expected-version': '0' });
      expect(conflict.status).toBe(409);
      expect(conflict.headers.get('thalo-node')).toBe(owner.id);
      expect(conflict.body.code).toBe('WRONG_EXPECTED_VERSION');
      // A command this node owns runs here.
      const ownId = idOwnedBy(entry.id, members, `own-${entry.id.slice(0, 4)}`);
      const own = await execute(entry.url, 'counter', ownId, 'Increment', { amount: 1 });
      expect(own.headers.get('thalo-node')).toBe(entry.id);
    }
    const text = (await request(`${a.url}/metrics`)).body as string;
    expect(metric(text, 'thalo_forwarded_commands_total{outcome="forwarded"}')).toBe(3);
    expect(metric(text, 'thalo_cluster_nodes')).toBe(2);
    // Named after the Prometheus conventions, like the single node's (test/server/http-api.test.ts).
    expect(text).toContain('# TYPE thalo_forwarded_commands_total counter');
    expect(text).toContain('# TYPE thalo_stale_state_retries_total counter');
    expect(text).toContain('# TYPE thalo_cluster_nodes gauge');
  });

  it("splits a batch by owner, runs each share on its owner, and answers in the batch's order", async () => {
    const members = [a.id, b.id];
    const ids = [0, 1, 2, 3].map((i) => idOwnedBy(i % 2 === 0 ? a.id : b.id, members, `batch-${i}`));
    const commands = [
      ...ids.map((id, i) => ({ aggregate: 'counter', id, command: 'Increment', payload: { amount: i + 1 } })),
      ...ids.map((id) => ({ aggregate: 'counter', id, command: 'Increment', payload: { amount: 10 }, expectedVersion: 1 })),
      { aggregate: 'counter', id: ids[1]!, command: 'Increment', payload: { amount: 1 }, expectedVersion: 0 },
      { aggregate: 'nosuch', id: ids[3]!, command: 'X' },
    ];
    const before = metric((await request(`${a.url}/metrics`)).body, 'thalo_forwarded_commands_total{outcome="forwarded"}');
    const { status, body } = await request(`${a.url}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ commands }),
    });
    expect(status).toBe(200);
    expect(body.results.map((r: { status: number }) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 409, 404]);
    ids.forEach((id, i) => {
      expect(body.results[i].result).toMatchObject({ id, version: 1, events: [{ data: { amount: i + 1 } }] });
      expect(body.results[4 + i].result).toMatchObject({ id, version: 2, events: [{ data: { amount: 10 } }] });
    });
    expect(body.results[9].error.code).toBe('AGGREGATE_NOT_FOUND');
    const after = metric((await request(`${a.url}/metrics`)).body, 'thalo_forwarded_commands_total{outcome="forwarded"}');
    // B owns ids[1] and ids[3] (five items), and 'nosuch-…' wherever its name hashes to.
    const ring = new Rendezvous(members);
    expect(after - before).toBe(commands.filter((c) => ring.ownerOf(`${c.aggregate}-${c.id}`) === b.id).length);
    expect(after - before).toBeGreaterThanOrEqual(5);
    // B's share ran in order: its two commands on ids[3] are the stream's events.
    const events = await request(`${b.url}/v1/aggregates/counter/${ids[3]}/events`);
    expect(events.body.events.map((e: { data: { amount: number } }) => e.data.amount)).toEqual([4, 10]);
  });

  it('refuses a request that passes for a forwarded one without the cluster token', async () => {
    const wrong = await execute(a.url, 'counter', 'tok', 'Increment', { amount: 1 }, { 'thalo-cluster-token': 'guess' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('CLUSTER_TOKEN_INVALID');
    const missing = await execute(a.url, 'counter', 'tok', 'Increment', { amount: 1 }, { 'thalo-forwarded-from': b.id });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('CLUSTER_TOKEN_INVALID');
    const batch = await request(`${a.url}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'thalo-cluster-token': 'guess' },
      body: JSON.stringify({ commands: [{ aggregate: 'counter', id: 'tok', command: 'Increment' }] }),
    });
    expect(batch.status).toBe(401);
    expect((await request(`${a.url}/v1/aggregates/counter/tok/events`)).body.events).toEqual([]);
  });

  it('never forwards a forwarded command again: it runs where it lands', async () => {
    const id = idOwnedBy(b.id, [a.id, b.id], 'landed');
    const landed = await execute(a.url, 'counter', id, 'Increment', { amount: 1 }, { 'thalo-cluster-token': CLUSTER_TOKEN });
    expect(landed.status).toBe(200);
    expect(landed.headers.get('thalo-node')).toBe(a.id);
  });

  it('retries on a rebuilt state when another node wrote the stream: no spurious WRONG_EXPECTED_VERSION', async () => {
    // Both nodes execute (forwarding bypassed), each with its own cached state of one aggregate.
    const forced = { 'thalo-cluster-token': CLUSTER_TOKEN };
    const id = 'shared-stale';
    const outcomes: number[] = [];
    for (let version = 0; version < 8; version++) {
      const node = version % 2 === 0 ? a : b;
      const answer = await execute(
        node.url,
        'counter',
        id,
        'Increment',
        { amount: 1 },
        { ...forced, 'thalo-expected-version': String(version) },
      );
      outcomes.push(answer.status);
      expect(answer.headers.get('thalo-node')).toBe(node.id);
    }
    expect(outcomes).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    // Without an expected version too: A's state (version 7) is stale, its commit conflicts and runs again.
    const loose = await execute(a.url, 'counter', id, 'Increment', { amount: 1 }, forced);
    expect(loose.status).toBe(200);
    expect(loose.body.version).toBe(9);
    // Each node's cache went stale at each turn: both rebuilt and ran again.
    const retries = await Promise.all(
      [a, b].map(async (node) => metric((await request(`${node.url}/metrics`)).body, 'thalo_stale_state_retries_total')),
    );
    expect(retries[0]! + retries[1]!).toBeGreaterThanOrEqual(6);
    // A really wrong expectation still fails, on either node, against the store's head (version 9).
    for (const node of [a, b]) {
      const wrong = await execute(node.url, 'counter', id, 'Increment', { amount: 1 }, { ...forced, 'thalo-expected-version': '5' });
      expect(wrong.status).toBe(409);
      expect(wrong.body.message).toContain('it is at version 9');
    }
    const events = await request(`${a.url}/v1/aggregates/counter/${id}/events`);
    expect(events.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('lists the nodes with their shares in GET /v1/cluster and thalo cluster', async () => {
    const status = await waitForMembers(b, [a.id, b.id]);
    expect(status.self).toBe(b.id);
    expect(status.live).toBe(true);
    expect(status.projections).toEqual([]);
    expect(status.relays).toEqual([]);
    expect(status.sample.complete).toBe(true);
    const shares = status.nodes.map((n: { share: number }) => n.share);
    expect(shares[0] + shares[1]).toBeCloseTo(1, 6);
    for (const node of status.nodes) {
      expect(node.leaseAgeMs).toBeLessThan(LEASE_MS);
      expect(node.self).toBe(node.id === b.id);
      expect(Date.parse(node.startedAt)).toBeLessThanOrEqual(Date.now() + 1_000);
    }
    const json = await thalo(['cluster', '--url', a.url, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).self).toBe(a.id);
    const text = await thalo(['cluster', '--url', a.url]);
    expect(text.stdout).toContain(`* ${a.id}`);
    expect(text.stdout).toContain(b.url);
    expect(text.stdout).toMatch(/shares over all \d+ streams/);
  });

  it('moves ownership to a node that joins, and back when it leaves (SIGTERM at once, SIGKILL after its lease)', async () => {
    const c = await startNode(schema);
    await Promise.all([a, b, c].map((node) => waitForMembers(node, [a.id, b.id, c.id])));
    const toC = idOwnedBy(c.id, [a.id, b.id, c.id], 'join');
    const joined = await execute(a.url, 'counter', toC, 'Increment', { amount: 1 });
    expect(joined.headers.get('thalo-node')).toBe(c.id);
    const share = (await request(`${c.url}/v1/cluster`)).body.nodes.find((n: { id: string }) => n.id === c.id).share;
    expect(share).toBeGreaterThan(0);

    // SIGTERM: the node deletes its row as it starts draining, so the others see it go at their
    // next renewal rather than when its lease expires.
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(await sql(`SELECT id FROM "${schema}".cluster_nodes WHERE id = $1`, [c.id])).toEqual([]);
    await Promise.all([waitForMembers(a, [a.id, b.id]), waitForMembers(b, [a.id, b.id])]);
    const back = await execute(a.url, 'counter', toC, 'Increment', { amount: 1 });
    expect(back.status).toBe(200);
    expect([a.id, b.id]).toContain(back.headers.get('thalo-node'));

    // SIGKILL: until its lease expires, the others cannot reach it and run its commands themselves.
    // (A longer lease for this node, so that "until" is not a race on a loaded machine, where a
    // start, the squatter's below, can take seconds.)
    // Its port is one no other test is handed meanwhile: the squatter below takes it.
    const d = await startNode(schema, { leaseMs: 12_000, port: await restartablePort() });
    await waitForMembers(a, [a.id, b.id, d.id]);
    const toD = idOwnedBy(d.id, [a.id, b.id, d.id], 'killed');
    expect((await execute(a.url, 'counter', toD, 'Increment', { amount: 1 })).headers.get('thalo-node')).toBe(d.id);
    d.child.kill('SIGKILL');
    await d.exited;
    const meanwhile = await execute(a.url, 'counter', toD, 'Increment', { amount: 1 });
    expect(meanwhile.status).toBe(200);
    expect(meanwhile.body.version).toBe(2);
    expect(meanwhile.headers.get('thalo-node')).toBe(a.id);
    const ranLocally = async () =>
      metric((await request(`${a.url}/metrics`)).body, 'thalo_forwarded_commands_total{outcome="ran_locally"}');
    expect(await ranLocally()).toBeGreaterThanOrEqual(1);

    // Another runtime, a node of another cluster, takes the dead node's address while it is still
    // listed: it refuses what was forwarded to d unrun (NOT_ADDRESSED_NODE), and a runs it itself.
    const otherSchema = freshSchema();
    schemas.push(otherSchema);
    const squatter = await startNode(otherSchema, { token: 'another-cluster', port: Number(new URL(d.url).port) });
    const before = await ranLocally();
    const taken = await execute(a.url, 'counter', toD, 'Increment', { amount: 1 }, { 'thalo-command-id': `taken-${toD}` });
    expect(taken.status).toBe(200);
    expect(taken.body.version).toBe(3);
    expect(taken.headers.get('thalo-node')).toBe(a.id);
    expect(await ranLocally()).toBe(before + 1);
    expect((await request(`${squatter.url}/v1/aggregates/counter/${toD}/events`)).body.events).toEqual([]);
    const direct = await execute(
      squatter.url,
      'counter',
      toD,
      'Increment',
      { amount: 1 },
      {
        'thalo-cluster-token': CLUSTER_TOKEN,
        'thalo-forwarded-to': d.id,
      },
    );
    expect(direct.status).toBe(503);
    expect(direct.body).toMatchObject({ code: 'NOT_ADDRESSED_NODE', data: { node: d.id } });
    expect(await squatter.stop('SIGTERM')).toBe(0);
    await Promise.all([waitForMembers(a, [a.id, b.id], 30_000), waitForMembers(b, [a.id, b.id], 30_000)]);
  }, 90_000);

  it('takes a node cut off from PostgreSQL out of the cluster while the others carry on, and back once it reconnects', async () => {
    const proxy = await startProxy();
    const e = await startNode(schema, { store: proxy.url });
    await waitForMembers(a, [a.id, b.id, e.id]);
    await proxy.cut();
    // The node refuses commands and fails its readiness check; the others drop it.
    await waitForMembers(a, [a.id, b.id]);
    await expect
      .poll(async () => (await execute(e.url, 'counter', 'cut-1', 'Increment', { amount: 1 })).body.code, { timeout: 10_000 })
      .toBe('NODE_NOT_IN_CLUSTER');
    const command = await execute(e.url, 'counter', 'cut-2', 'Increment', { amount: 1 });
    expect(command.status).toBe(503);
    const ready = await request(`${e.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(['NODE_NOT_IN_CLUSTER', 'STORE_UNAVAILABLE']).toContain(ready.body.code);
    const elsewhere = await execute(a.url, 'counter', 'cut-3', 'Increment', { amount: 1 });
    expect(elsewhere.status).toBe(200);
    expect(e.logs.some((line) => line.msg.startsWith('out of the cluster'))).toBe(true);

    await proxy.restore();
    await waitForMembers(e, [a.id, b.id, e.id], 30_000);
    await expect.poll(async () => (await request(`${e.url}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    const served = await execute(e.url, 'counter', 'cut-4', 'Increment', { amount: 1 });
    expect(served.status).toBe(200);
    await e.stop('SIGTERM');
    await proxy.close();
  }, 90_000);

  it("forwards the client's token with the command: the owner checks it like any request", async () => {
    const secured = freshSchema();
    schemas.push(secured);
    const args = ['--token', 'client-secret'];
    const [x, y] = await Promise.all([startNode(secured, { args }), startNode(secured, { args })]);
    const auth = { authorization: 'Bearer client-secret' };
    await waitForMembers(x, [x.id, y.id], 15_000, auth);
    await waitForMembers(y, [x.id, y.id], 15_000, auth);
    const id = idOwnedBy(y.id, [x.id, y.id], 'secured');
    const ok = await execute(x.url, 'counter', id, 'Increment', { amount: 1 }, auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('thalo-node')).toBe(y.id);
    const refused = await execute(x.url, 'counter', id, 'Increment', { amount: 1 });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNAUTHORIZED');
    // The cluster token alone does not stand in for the client's.
    const tokenOnly = await execute(y.url, 'counter', id, 'Increment', { amount: 1 }, { 'thalo-cluster-token': CLUSTER_TOKEN });
    expect(tokenOnly.status).toBe(401);
    await Promise.all([x.stop(), y.stop()]);
  }, 60_000);

  it('answers 404 CLUSTER_NOT_ENABLED on a runtime that runs alone', async () => {
    const alone = await startRuntime({ args: ['--workers', '1'] });
    const { status, body, headers } = await request(`${alone.url}/v1/cluster`);
    expect(status).toBe(404);
    expect(body.code).toBe('CLUSTER_NOT_ENABLED');
    expect(headers.get('thalo-node')).toBeNull();
    await alone.stop();
  });
});
