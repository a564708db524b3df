/**
 * Modules kept in the store, with `thalo-runtime` as processes: two cluster nodes on one
 * PostgreSQL schema. A module published to one node (`thalo publish`, `PUT /v1/modules/:name`)
 * serves on the other within seconds, and `GET /v1/modules` shows the same revision and SHA-256
 * on both; a file dropped into one node's directory is published as if uploaded; a bad upload
 * is refused and stores nothing; at start, a module in the store wins over a local file of the
 * same name.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres, sql } from '../store/postgres-helpers.js';
import { EXAMPLE_MODULES, execute, request, startRuntime, tempRoot, thalo } from '../server/runtime-process.js';
import type { RuntimeProcess } from '../server/runtime-process.js';

const schema = freshSchema();

function startNode(root = tempRoot()): Promise<RuntimeProcess> {
  return startRuntime({
    root,
    args: ['--workers', '1', '--store', POSTGRES.url, '--schema', schema, '--advertise', 'http://127.0.0.1:1', '--cluster-token', 'secret'],
  });
}

interface ModuleEntry {
  name: string;
  sha256: string;
  stored?: { revision: number; publishedBy: string };
}

async function modulesOf(node: RuntimeProcess): Promise<Map<string, ModuleEntry>> {
  const { body } = await request(`${node.url}/v1/modules`);
  return new Map((body.modules as ModuleEntry[]).map((m) => [m.name, m]));
}

/** Name → [revision, sha256] as a node serves them. */
async function revisions(node: RuntimeProcess): Promise<Record<string, [number | undefined, string]>> {
  return Object.fromEntries([...(await modulesOf(node)).values()].map((m) => [m.name, [m.stored?.revision, m.sha256]]));
}

describe.skipIf(postgresSkipped)('a cluster keeps its modules in the store', () => {
  let a: RuntimeProcess;
  let b: RuntimeProcess;
  beforeAll(async () => {
    await requirePostgres();
    a = await startNode();
    b = await startNode();
  });
  afterAll(() => dropSchemas([schema]));

  it('serves a module published to one node on the other within seconds, with the same revision on both', async () => {
    // Both started with the same example files: the first published them (revision 1), the second found them there.
    expect((await modulesOf(a)).get('counter')).toMatchObject({ stored: { revision: 1 } });
    expect(await revisions(b)).toEqual(await revisions(a));

    // A new module, through the CLI, to node A.
    const published = await thalo(['publish', 'tally', join(EXAMPLE_MODULES, 'counter.wasm'), '--url', a.url, '--json']);
    expect(published.code).toBe(0);
    const startedAt = Date.now();
    await expect.poll(async () => (await modulesOf(b)).get('tally')?.stored?.revision, { timeout: 10_000, interval: 100 }).toBe(1);
    const servedAfterMs = Date.now() - startedAt;
    expect(await execute(b.url, 'tally', 't-1', 'Increment', { amount: 2 })).toMatchObject({ status: 200 });

    // New bytes under a name that exists, over HTTP to node B: revision 2 on both.
    const bytes = readFileSync(join(EXAMPLE_MODULES, 'todos.wasm'));
    const put = await request(`${b.url}/v1/modules/tally`, { method: 'PUT', headers: { 'content-type': 'application/wasm' }, body: bytes });
    expect(put.status).toBe(200);
    expect(put.body.module).toMatchObject({ name: 'tally', stored: { revision: 2 } });
    await expect.poll(async () => (await modulesOf(a)).get('tally')?.stored?.revision, { timeout: 10_000, interval: 100 }).toBe(2);
    expect((await modulesOf(a)).get('tally')!.sha256).toBe(put.body.module.sha256);
    expect(await revisions(a)).toEqual(await revisions(b));
    const [row] = await sql(`SELECT revision, sha256, length(bytes) AS size FROM "${schema}".modules WHERE name = 'tally'`);
    expect(row).toEqual({ revision: '2', sha256: put.body.module.sha256, size: bytes.length });
    console.log(`a module published to node A served on node B ${servedAfterMs} ms later`);
  });

  it("publishes a file dropped into a node's directory as if uploaded", async () => {
    copyFileSync(join(EXAMPLE_MODULES, 'counter.wasm'), join(b.modules, 'dropped.wasm'));
    await expect.poll(async () => (await modulesOf(a)).get('dropped')?.stored?.revision, { timeout: 10_000, interval: 100 }).toBe(1);
    expect(await revisions(a)).toEqual(await revisions(b));
  });

  it('refuses a bad upload with its error and keeps nothing of it in the store', async () => {
    const put = await request(`${a.url}/v1/modules/tally`, {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: Buffer.from('not a module'),
    });
    expect(put).toMatchObject({ status: 400, body: { code: 'MODULE_INVALID' } });
    const [row] = await sql(`SELECT revision FROM "${schema}".modules WHERE name = 'tally'`);
    expect(row).toEqual({ revision: '2' });
    expect((await modulesOf(a)).get('tally')?.stored?.revision).toBe(2);
  });

  it("at start, serves the store's revision over a different local file of the same name", async () => {
    expect(await b.stop()).toBe(0);
    copyFileSync(join(EXAMPLE_MODULES, 'todos.wasm'), join(b.modules, 'counter.wasm'));
    b = await startNode({ root: b.root, modules: b.modules, data: b.data });
    const counter = (await modulesOf(a)).get('counter')!;
    expect((await modulesOf(b)).get('counter')).toMatchObject({ sha256: counter.sha256, stored: { revision: 1 } });
    expect(readFileSync(join(b.modules, 'counter.wasm'))).toEqual(readFileSync(join(EXAMPLE_MODULES, 'counter.wasm')));
    expect(await revisions(b)).toEqual(await revisions(a));
  });
});
