/**
 * The HTTP API against `thalo-runtime` as a real process: executing, reading, batches, modules,
 * operations, and every status code the API documents, each provoked for real.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { execute, request, startRuntime, tempRoot } from './runtime-process.js';
import type { RuntimeProcess } from './runtime-process.js';

let runtime: RuntimeProcess;
let url: string;

beforeAll(async () => {
  const root = tempRoot();
  await buildFixture('runaway', root.modules);
  writeFileSync(join(root.modules, 'broken.wasm'), 'not wasm at all');
  runtime = await startRuntime({ root, args: ['--max-payload', '4096', '--command-timeout', '1000'] });
  url = runtime.url;
});

describe('start-up', () => {
  it('logs each loaded module with its file, each refused one, then the address', () => {
    const lines = runtime.logs.map((l) => l.msg);
    const loaded = runtime.logs.filter((l) => l.msg === 'loaded module from file');
    expect(loaded.map((l) => l.file)).toEqual([
      'modules/bank_account.wasm',
      'modules/counter.wasm',
      'modules/inventory.wasm',
      'modules/runaway.wasm',
      'modules/todos.wasm',
    ]);
    expect(lines.slice(0, loaded.length).every((m) => m === 'loaded module from file')).toBe(true);
    const refused = runtime.logs.find((l) => l.msg.startsWith('refused module'));
    expect(refused).toMatchObject({ file: 'modules/broken.wasm', code: 'MODULE_INVALID' });
    expect(lines.findIndex((m) => m.startsWith('listening on'))).toBeGreaterThan(lines.indexOf(refused!.msg));
  });
});

describe('executing a command', () => {
  it('answers 200 with the durable events, and the options travel as headers', async () => {
    const { status, body } = await execute(
      url,
      'counter',
      'h1',
      'Increment',
      { amount: 10 },
      { 'thalo-correlation-id': 'corr-1', 'thalo-expected-version': 'no_stream' },
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ aggregate: 'counter', id: 'h1', stream: 'counter-h1', version: 1, duplicate: false });
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({
      stream: 'counter-h1',
      seq: 1,
      type: 'Incremented',
      data: { amount: 10 },
      metadata: { correlationId: 'corr-1' },
    });
    expect(body.events[0].position).toBeGreaterThan(0);
  });

  it('answers a retried command id with the original events and appends nothing', async () => {
    const first = await execute(url, 'counter', 'h2', 'Increment', { amount: 1 }, { 'thalo-command-id': 'cmd-h2' });
    const again = await execute(url, 'counter', 'h2', 'Increment', { amount: 1 }, { 'thalo-command-id': 'cmd-h2' });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.events.map((e: { id: string }) => e.id)).toEqual(first.body.events.map((e: { id: string }) => e.id));
    expect((await request(`${url}/v1/aggregates/counter/h2/events`)).body.events).toHaveLength(1);
  });

  it('executes a batch in order with a result per command', async () => {
    const { status, body } = await request(`${url}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        commands: [
          { aggregate: 'counter', id: 'b1', command: 'Increment', payload: { amount: 1 } },
          { aggregate: 'counter', id: 'b1', command: 'Increment', payload: { amount: 2 }, expectedVersion: 1 },
          { aggregate: 'counter', id: 'b1', command: 'Increment', payload: { amount: 0 } },
          { aggregate: 'counter', id: 'b1', command: 'Increment', payload: { amount: 3 }, expectedVersion: 1 },
          { aggregate: 'nope', id: 'b1', command: 'Increment' },
          { aggregate: 'counter', id: 'b1', command: 'Decrement' },
        ],
      }),
    });
    expect(status).toBe(200);
    expect(body.results.map((r: { status: number }) => r.status)).toEqual([200, 200, 422, 409, 404, 404]);
    expect(body.results[1].result).toMatchObject({ version: 2, events: [{ seq: 2, data: { amount: 2 } }] });
    expect(body.results[2].error).toMatchObject({ code: 'COMMAND_REJECTED', data: { code: 'INVALID_AMOUNT' } });
    expect(body.results[3].error).toMatchObject({ code: 'WRONG_EXPECTED_VERSION', data: { expected: 1, actual: 2 } });
    expect(body.results[4].error.code).toBe('AGGREGATE_NOT_FOUND');
    expect(body.results[5].error.code).toBe('UNKNOWN_COMMAND');
  });
});

describe('reading', () => {
  it('reads a stream page by page, and the global log from a position', async () => {
    for (let i = 1; i <= 3; i++) expect((await execute(url, 'counter', 'r1', 'Increment', { amount: i })).status).toBe(200);
    const first = await request(`${url}/v1/aggregates/counter/r1/events?limit=2`);
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(first.body.next).toBe(3);
    const rest = await request(`${url}/v1/aggregates/counter/r1/events?from=3`);
    expect(rest.body.events.map((e: { data: unknown }) => e.data)).toEqual([{ amount: 3 }]);
    expect(rest.body.next).toBeNull();
    const backwards = await request(`${url}/v1/aggregates/counter/r1/events?backwards=true&limit=1`);
    expect(backwards.body.events[0].seq).toBe(3);

    const position = first.body.events[1].position;
    const log = await request(`${url}/v1/events?from=${position}&limit=2`);
    expect(log.status).toBe(200);
    expect(log.body.events.map((e: { position: number }) => e.position)).toEqual([position, position + 1]);
    expect(log.body.next).toBe(position + 2);
    expect(log.body.lastPosition).toBeGreaterThanOrEqual(position + 1);
  });
});

describe('status codes', () => {
  const post = (path: string, body: string, contentType = 'application/json') =>
    request(`${url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('400 for malformed input', async () => {
    const badJson = await post('/v1/aggregates/counter/s1/commands/Increment', '{"amount":');
    expect([badJson.status, badJson.body.code]).toEqual([400, 'MALFORMED_REQUEST']);
    const badHeader = await execute(url, 'counter', 's1', 'Increment', { amount: 1 }, { 'thalo-expected-version': 'soon' });
    expect([badHeader.status, badHeader.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(badHeader.body.message).toContain('header Thalo-Expected-Version');
    const badId = await execute(url, 'counter', 'a\nb', 'Increment', { amount: 1 });
    expect([badId.status, badId.body.code]).toEqual([400, 'INVALID_AGGREGATE_ID']);
    const badPayload = await post('/v1/aggregates/counter/s1/commands/Increment', '[1,2]');
    expect([badPayload.status, badPayload.body.code]).toEqual([400, 'INVALID_PAYLOAD']);
    const badBatch = await post('/v1/commands', JSON.stringify({ commands: [{ aggregate: 'counter', id: 7, command: 'Increment' }] }));
    expect([badBatch.status, badBatch.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(badBatch.body.message).toContain('commands[0].id');
    const badQuery = await request(`${url}/v1/events?from=zero`);
    expect([badQuery.status, badQuery.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('takes ids up to the stream name limit, and answers longer or undecodable paths with a code', async () => {
    // The stream counter-<id> may have 256 bytes: 8 for "counter-", 248 for the id.
    const longest = await execute(url, 'counter', 'q'.repeat(248), 'Increment', { amount: 1 });
    expect([longest.status, longest.body.events?.[0]?.stream]).toEqual([200, `counter-${'q'.repeat(248)}`]);
    const encoded = await execute(url, 'counter', 'é'.repeat(124), 'Increment', { amount: 1 });
    expect(encoded.status).toBe(200);
    const tooLong = await execute(url, 'counter', 'q'.repeat(300), 'Increment', { amount: 1 });
    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'INVALID_AGGREGATE_ID']);
    const huge = await execute(url, 'counter', 'q'.repeat(2_000), 'Increment', { amount: 1 });
    expect([huge.status, huge.body.code]).toEqual([414, 'URI_TOO_LONG']);
    const undecodable = await post('/v1/aggregates/counter/%FF%FE/commands/Increment', '{"amount":1}');
    expect([undecodable.status, undecodable.body.code]).toEqual([400, 'MALFORMED_REQUEST']);
  });

  it('400 MALFORMED_REQUEST with a body for what HTTP itself cannot parse, then the connection closes', async () => {
    const { hostname, port } = new URL(url);
    const raw = (text: string, halfClose: boolean) =>
      new Promise<string>((resolveAnswer, reject) => {
        const socket = connect({ host: hostname, port: Number(port) }, () => {
          socket.write(text);
          if (halfClose) socket.end();
        });
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk));
        socket.on('close', () => resolveAnswer(answer));
        socket.on('error', reject);
      });
    const head = (extra: string) =>
      `POST /v1/aggregates/counter/h1/commands/Increment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}\r\n`;
    for (const [text, halfClose] of [
      [head('Content-Length: abc\r\n') + '{}', false],
      [head('Content-Length: 40\r\n') + '{"amount":', true],
      [head('Transfer-Encoding: chunked\r\n') + 'zz\r\n{"amount":1}\r\n', false],
    ] as const) {
      const answer = await raw(text, halfClose);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'MALFORMED_REQUEST' });
    }
  });

  it('404 for an unknown aggregate, command or route', async () => {
    const aggregate = await execute(url, 'nope', 'x', 'Increment', {});
    expect([aggregate.status, aggregate.body.code]).toEqual([404, 'AGGREGATE_NOT_FOUND']);
    const command = await execute(url, 'counter', 'x', 'Decrement', {});
    expect([command.status, command.body.code]).toEqual([404, 'UNKNOWN_COMMAND']);
    const stream = await request(`${url}/v1/aggregates/nope/x/events`);
    expect([stream.status, stream.body.code]).toEqual([404, 'AGGREGATE_NOT_FOUND']);
    const route = await request(`${url}/v1/nothing`);
    expect([route.status, route.body.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
  });

  it('409 for a version conflict', async () => {
    await execute(url, 'counter', 'c1', 'Increment', { amount: 1 });
    const { status, body } = await execute(url, 'counter', 'c1', 'Increment', { amount: 1 }, { 'thalo-expected-version': '0' });
    expect([status, body.code]).toEqual([409, 'WRONG_EXPECTED_VERSION']);
    expect(body.data).toEqual({ stream: 'counter-c1', expected: 0, actual: 1 });
  });

  it('413 for a body or payload over the limit', async () => {
    // Over the body limit: Fastify refuses it before parsing.
    const body = await execute(url, 'counter', 'p1', 'Increment', { amount: 1, note: 'x'.repeat(8_000) });
    expect([body.status, body.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // Under the body limit but over the engine's msgpack limit.
    const payload = await execute(url, 'counter', 'p1', 'Increment', { amount: 1, note: 'x'.repeat(4_500) });
    expect([payload.status, payload.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(payload.body.data).toMatchObject({ limit: 4096 });
  });

  it('415 for a body of another content type', async () => {
    const { status, body } = await post('/v1/aggregates/counter/t1/commands/Increment', 'amount=1', 'application/x-www-form-urlencoded');
    expect([status, body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    // JSON text sent as text/plain is still not JSON to the API, on either command route.
    const text = await post('/v1/aggregates/counter/t1/commands/Increment', '{"amount":1}', 'text/plain');
    expect([text.status, text.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const batch = await post('/v1/commands', JSON.stringify({ commands: [] }), 'text/plain; charset=utf-8');
    expect([batch.status, batch.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it("422 for the aggregate's own rejection, with its code", async () => {
    const { status, body } = await execute(url, 'counter', 'v1', 'Increment', { amount: -5 });
    expect(status).toBe(422);
    expect(body).toMatchObject({
      code: 'COMMAND_REJECTED',
      data: { aggregate: 'counter', id: 'v1', command: 'Increment', code: 'INVALID_AMOUNT' },
    });
    expect(typeof body.message).toBe('string');
  });

  it('500 for a guest that traps, 504 for one that runs past the deadline; others carry on', async () => {
    const trap = await execute(url, 'runaway', 'x1', 'Trap', {});
    expect([trap.status, trap.body.code]).toEqual([500, 'GUEST_TRAP']);
    const [loop, fine] = await Promise.all([
      execute(url, 'runaway', 'x2', 'Loop', {}),
      execute(url, 'counter', 'x3', 'Increment', { amount: 1 }),
    ]);
    expect([loop.status, loop.body.code]).toEqual([504, 'COMMAND_TIMEOUT']);
    expect(fine.status).toBe(200);
    expect((await execute(url, 'runaway', 'x2', 'Ok', {})).status).toBe(200);
  });
});

describe('modules', () => {
  it('lists what each module describes, and the refused files', async () => {
    const { status, body } = await request(`${url}/v1/modules`);
    expect(status).toBe(200);
    expect(body.modules.map((m: { name: string }) => m.name)).toEqual(['bank_account', 'counter', 'inventory', 'runaway', 'todos']);
    expect(body.modules[1]).toMatchObject({
      name: 'counter',
      file: 'modules/counter.wasm',
      description: { name: 'counter', commands: ['Increment'], events: ['Incremented'] },
    });
    expect(body.refused).toEqual([{ file: 'modules/broken.wasm', error: expect.objectContaining({ code: 'MODULE_INVALID' }) }]);
  });

  it('uploads a module: validated, served, and written to the modules directory', async () => {
    const bytes = readFileSync(join(runtime.modules, 'bank_account.wasm'));
    const put = await request(`${url}/v1/modules/ledger`, { method: 'PUT', headers: { 'content-type': 'application/wasm' }, body: bytes });
    expect(put.status).toBe(200);
    expect(put.body.module).toMatchObject({
      name: 'ledger',
      file: 'modules/ledger.wasm',
      description: { commands: ['OpenAccount', 'Deposit', 'Withdraw'] },
    });
    expect((await execute(url, 'ledger', 'l1', 'OpenAccount', { initial_balance: 5 })).body.events[0]).toMatchObject({
      stream: 'ledger-l1',
      type: 'AccountOpened',
    });
    expect(Buffer.compare(readFileSync(join(runtime.modules, 'ledger.wasm')), bytes)).toBe(0);
  });

  it('refuses a bad upload with 400, and the previous version keeps serving', async () => {
    const before = readFileSync(join(runtime.modules, 'counter.wasm'));
    const put = await request(`${url}/v1/modules/counter`, {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: Buffer.from('garbage'),
    });
    expect([put.status, put.body.code]).toEqual([400, 'MODULE_INVALID']);
    expect(put.body.message).toContain('modules/counter.wasm');
    expect((await execute(url, 'counter', 'm1', 'Increment', { amount: 1 })).status).toBe(200);
    expect(Buffer.compare(readFileSync(join(runtime.modules, 'counter.wasm')), before)).toBe(0);
    const badName = await request(`${url}/v1/modules/9lives`, {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: before,
    });
    expect([badName.status, badName.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
  });
});

describe('operations', () => {
  it('answers health and readiness', async () => {
    expect(await request(`${url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await request(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('exports Prometheus metrics', async () => {
    await execute(url, 'counter', 'metrics', 'Increment', { amount: 1 });
    const { status, body, headers } = await request(`${url}/metrics`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/plain');
    const text = body as string;
    expect(text).toMatch(/thalo_commands_total\{outcome="ok"\} [1-9]/);
    expect(text).toMatch(/thalo_commands_total\{outcome="COMMAND_REJECTED"\} [1-9]/);
    expect(text).toMatch(/thalo_command_duration_seconds_count [1-9]/);
    expect(text).toMatch(/thalo_events_appended_total\{aggregate="counter"\} [1-9]/);
    expect(text).toMatch(/thalo_shard_queue_depth\{shard="1"\} 0/);
    expect(text).toMatch(/thalo_subscription_lag_events\{subscription="sse"\} 0/);
    expect(text).toMatch(/thalo_log_position [1-9]/);
    // Every command answered by a worker was a cache hit or a rebuild, and some were rebuilt.
    expect(text).toMatch(/thalo_cache_hits_total \d+/);
    expect(text).toMatch(/thalo_cache_misses_total [1-9]/);
    // The command above was committed: at least one commit, holding at least its append, that took time.
    expect(Number(/^thalo_store_commits_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^thalo_store_commit_appends_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^thalo_store_commit_seconds_total (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('names every metric after the Prometheus conventions', async () => {
    const text = (await request(`${url}/metrics`)).body as string;
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
    expect(types.length).toBeGreaterThan(10);
    // Once `thalo_process_process_cpu_user_seconds_total`: prom-client's names begin with `process_` already.
    expect(text).toMatch(/^thalo_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^thalo_nodejs_eventloop_lag_seconds \d/m);
    const faults = types.flatMap(({ name, type }) => {
      const found: string[] = [];
      if (!/^thalo_[a-z0-9_]+$/.test(name)) found.push(`${name}: not thalo_ and snake case`);
      if (/(^|_)([a-z0-9]+)_\2(_|$)/.test(name)) found.push(`${name}: a word twice in a row`);
      if ((type === 'counter') !== name.endsWith('_total')) found.push(`${name}: _total is for counters, and every counter ends in it`);
      if ((type === 'histogram' || type === 'summary') && !/_(seconds|bytes)$/.test(name))
        found.push(`${name}: a distribution names its base unit`);
      if (/_(milliseconds|ms|kilobytes|kb|mb|minutes)(_|$)/.test(name)) found.push(`${name}: not a base unit`);
      return found;
    });
    expect(faults).toEqual([]);
  });
});
