/**
 * The console's endpoints and the console's files, against `thalo-runtime` as a process:
 * `GET /v1/streams` (by aggregate and prefix, page by page), `GET
 * /v1/aggregates/:aggregate/:id/state?at=` (time travel, rebuilt in a worker without touching
 * the cached state), and the page at `/` and `/console/` (public, gzipped, same-origin only).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer, ModuleDirectory } from '../../src/server/index.js';
import { EXAMPLE_MODULES, startEngine } from '../engine/helpers.js';
import wabt from 'wabt';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { execute, request, startRuntime, tempRoot } from './runtime-process.js';
import type { RuntimeProcess } from './runtime-process.js';

let runtime: RuntimeProcess;
let url: string;

beforeAll(async () => {
  const root = tempRoot();
  await buildFixture('pinger', root.modules);
  runtime = await startRuntime({ root });
  url = runtime.url;
  for (const id of ['a1', 'a2', 'b1']) await execute(url, 'counter', id, 'Increment', { amount: 1 });
  await execute(url, 'counter', 'a2', 'Increment', { amount: 1 });
  await execute(url, 'todos', 'a1', 'AddTodo', { id: 't1', title: 'x' });
});

afterAll(async () => {
  await runtime?.stop();
});

describe('GET /v1/streams', () => {
  it('lists one aggregate by id prefix with versions, and every stream by name prefix', async () => {
    const { status, body } = await request(`${url}/v1/streams?aggregate=counter&prefix=a`);
    expect(status).toBe(200);
    expect(body).toEqual({
      streams: [
        { stream: 'counter-a1', aggregate: 'counter', id: 'a1', version: 1 },
        { stream: 'counter-a2', aggregate: 'counter', id: 'a2', version: 2 },
      ],
      next: null,
    });
    const all = await request(`${url}/v1/streams`);
    expect(all.body.streams.map((s: any) => s.stream)).toEqual(['counter-a1', 'counter-a2', 'counter-b1', 'todos-a1']);
    const byName = await request(`${url}/v1/streams?prefix=todos-`);
    expect(byName.body.streams).toEqual([{ stream: 'todos-a1', aggregate: 'todos', id: 'a1', version: 1 }]);
  });

  it('pages with next as the after of the following page, null after the last', async () => {
    const seen: string[] = [];
    let after = '';
    for (let pages = 1; pages <= 10; pages++) {
      const { body } = await request(`${url}/v1/streams?aggregate=counter&limit=2&after=${encodeURIComponent(after)}`);
      seen.push(...body.streams.map((s: any) => s.stream));
      if (body.next === null) break;
      expect(body.next).toBe(body.streams.at(-1).stream);
      after = body.next;
    }
    expect(seen).toEqual(['counter-a1', 'counter-a2', 'counter-b1']);
  });

  it('refuses a bad aggregate name or limit, naming the parameter', async () => {
    const bad = await request(`${url}/v1/streams?aggregate=no-dash`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(bad.body.message).toContain('aggregate');
    for (const limit of ['0', '1001', 'x']) {
      const refused = await request(`${url}/v1/streams?limit=${limit}`);
      expect(refused.status, limit).toBe(400);
      expect(refused.body.message).toContain('query parameter limit');
    }
  });
});

describe('GET /v1/aggregates/:aggregate/:id/state', () => {
  it('rebuilds the state at each seq, and leaves the cached state as it was', async () => {
    for (const amount of [1, 2, 3]) await execute(url, 'counter', 'tt', 'Increment', { amount });
    const at = async (query: string) => (await request(`${url}/v1/aggregates/counter/tt/state${query}`)).body;
    expect(await at('')).toEqual({ aggregate: 'counter', id: 'tt', stream: 'counter-tt', seq: 3, version: 3, state: { count: 6 } });
    expect(await at('?at=2')).toMatchObject({ seq: 2, version: 3, state: { count: 3 } });
    expect(await at('?at=1')).toMatchObject({ seq: 1, state: { count: 1 } });
    expect(await at('?at=0')).toMatchObject({ seq: 0, state: { count: 0 } });
    expect(await at('?at=99')).toMatchObject({ seq: 3, state: { count: 6 } });
    // The next command runs on the latest state, not on one of the past states just built.
    const next = await execute(url, 'counter', 'tt', 'Increment', { amount: 10 });
    expect(next.body.version).toBe(4);
    expect(await at('')).toMatchObject({ seq: 4, state: { count: 16 } });
  });

  it('answers a stream without events with the new state, and the bank account with its balance', async () => {
    expect((await request(`${url}/v1/aggregates/counter/nobody/state`)).body).toMatchObject({ seq: 0, version: 0, state: { count: 0 } });
    await execute(url, 'bank_account', 'acc', 'OpenAccount', { initial_balance: 100 });
    await execute(url, 'bank_account', 'acc', 'Withdraw', { amount: 30 });
    const { body } = await request(`${url}/v1/aggregates/bank_account/acc/state?at=1`);
    expect(body.state).toMatchObject({ balance: 100 });
  });

  it('says so for a module without thalo_snapshot, an unknown aggregate and a bad at', async () => {
    await execute(url, 'pinger', 'p', 'Ping', {});
    const unsupported = await request(`${url}/v1/aggregates/pinger/p/state`);
    expect(unsupported.status).toBe(422);
    expect(unsupported.body).toMatchObject({ code: 'SNAPSHOTS_UNSUPPORTED', data: { aggregate: 'pinger' } });
    const unknown = await request(`${url}/v1/aggregates/nothing/p/state`);
    expect(unknown).toMatchObject({ status: 404, body: { code: 'AGGREGATE_NOT_FOUND' } });
    const bad = await request(`${url}/v1/aggregates/counter/tt/state?at=-1`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('query parameter at');
  });
});

describe('a state rebuild whose guest never returns', () => {
  it('is stopped by --command-timeout with COMMAND_TIMEOUT, and the worker serves on', async () => {
    // The pinger of test/fixtures/, given snapshot exports whose thalo_snapshot loops forever.
    const wat = readFileSync('test/fixtures/pinger.wat', 'utf8').replace(
      /\)\s*$/,
      `  (func (export "thalo_snapshot") (param i32) (result i64) (loop $spin (br $spin)) (unreachable))
  (func (export "thalo_restore") (param i32 i32 i32 i32) (result i32) (i32.const 0)))`,
    );
    const parsed = (await wabt()).parseWat('stuck.wat', wat);
    const root = tempRoot();
    writeFileSync(join(root.modules, 'pinger.wasm'), parsed.toBinary({}).buffer);
    parsed.destroy();
    const stuck = await startRuntime({ root, args: ['--command-timeout', '500', '--workers', '1'] });
    try {
      await execute(stuck.url, 'pinger', 'p', 'Ping', {});
      const started = performance.now();
      const { status, body } = await request(`${stuck.url}/v1/aggregates/pinger/p/state`);
      expect(status).toBe(504);
      expect(body).toMatchObject({ code: 'COMMAND_TIMEOUT', data: { aggregate: 'pinger', id: 'p', timeoutMs: 500 } });
      expect(performance.now() - started).toBeLessThan(30_000);
      // The one worker was replaced: the next commands are served, on the pinger's state too.
      expect((await execute(stuck.url, 'counter', 'c', 'Increment', { amount: 1 })).status).toBe(200);
      expect((await execute(stuck.url, 'pinger', 'p', 'Ping', {})).body).toMatchObject({ version: 2, events: [{ data: 1 }] });
    } finally {
      await stuck.stop();
    }
  });
});

describe('the console files', () => {
  it('serves the page at / and /console, and its assets gzipped, with a same-origin policy', async () => {
    for (const path of ['/', '/console', '/console/']) {
      const page = await fetch(`${url}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      const html = await page.text();
      expect(html).toContain('<div id="app">');
    }
    const html = await (await fetch(`${url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const response = await fetch(`${url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-encoding'), asset).toBe('gzip');
      expect(response.headers.get('cache-control')).toContain('immutable');
    }
    // Nothing in the page names another host.
    expect(html).not.toMatch(/https?:\/\//);
    // Only the console's own files: nothing else on the disk is reachable through it.
    for (const path of [
      '/console/assets/none.js',
      '/console/%2e%2e/package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/index.html.gz',
    ]) {
      const missing = await request(`${url}${path}`);
      expect(missing, path).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
    }
    // Without gzip in Accept-Encoding, the plain file.
    const plain = await fetch(`${url}${assets[0]}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect((await plain.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });

  it('serves the page without the token, while the API behind it needs it', async () => {
    const guarded = await startRuntime({ args: ['--token', 'sesame'] });
    try {
      expect((await fetch(`${guarded.url}/`)).status).toBe(200);
      expect((await request(`${guarded.url}/v1/streams`)).status).toBe(401);
      expect((await request(`${guarded.url}/v1/streams`, { headers: { authorization: 'Bearer sesame' } })).status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });

  it('answers CONSOLE_NOT_BUILT where the console was not built', async () => {
    const engine = await startEngine();
    const logger = pino({ level: 'silent' });
    const api = new ApiServer({
      engine,
      modules: new ModuleDirectory({ engine, directory: EXAMPLE_MODULES, logger }),
      logger,
      maxPayloadBytes: 1 << 20,
      consoleDirectory: join(tempRoot().root, 'no-console'),
    });
    try {
      for (const path of ['/', '/console', '/console/assets/a.js']) {
        const response = await api.app.inject({ method: 'GET', url: path });
        expect(response.statusCode, path).toBe(503);
        expect(response.json()).toMatchObject({ code: 'CONSOLE_NOT_BUILT' });
        expect(response.json().message).toContain('npm run build:console');
      }
    } finally {
      await api.app.close();
      await engine.stop();
    }
  });
});
