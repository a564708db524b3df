/**
 * The `thalo` CLI as a process against `thalo-runtime` as a process, with a token set through
 * the runtime's THALO_TOKEN: every client command, its --json form, its exit codes, and the token
 * enforced on HTTP and on the CLI alike.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { execute, request, startRuntime, thalo } from '../server/runtime-process.js';
import type { RuntimeProcess } from '../server/runtime-process.js';

const TOKEN = 's3cret-token';
let runtime: RuntimeProcess;
let cli: (args: string[], env?: Record<string, string>) => ReturnType<typeof thalo>;

beforeAll(async () => {
  runtime = await startRuntime({ env: { THALO_TOKEN: TOKEN } });
  cli = (args, env = {}) => thalo([...args, '--url', runtime.url], { THALO_TOKEN: TOKEN, ...env });
});

describe('the token', () => {
  it('is required on every request but the health checks', async () => {
    const none = await execute(runtime.url, 'counter', 't1', 'Increment', { amount: 1 });
    expect([none.status, none.body.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await execute(runtime.url, 'counter', 't1', 'Increment', { amount: 1 }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    for (const path of ['/v1/events', '/v1/modules', '/v1/subscribe', '/metrics'])
      expect((await request(`${runtime.url}${path}`)).status).toBe(401);
    const right = await execute(runtime.url, 'counter', 't1', 'Increment', { amount: 1 }, { authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect((await request(`${runtime.url}/healthz`)).status).toBe(200);
    expect((await request(`${runtime.url}/readyz`)).status).toBe(200);
  });

  it('is sent by the CLI from --token or THALO_TOKEN, and its absence fails with exit code 1', async () => {
    const without = await cli(['execute', 'counter', 't2', 'Increment', '{"amount":1}'], { THALO_TOKEN: '' });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('UNAUTHORIZED');
    const flag = await cli(['execute', 'counter', 't2', 'Increment', '{"amount":1}', '--token', TOKEN], { THALO_TOKEN: '' });
    expect(flag.code).toBe(0);
  });
});

describe('thalo execute', () => {
  it('prints the events like the original Thalo and exits 0', async () => {
    const { code, stdout } = await cli(['execute', 'counter', 'abc123', 'Increment', '{"amount":10}']);
    expect(code).toBe(0);
    expect(stdout).toBe('Executed with 1 events:\n    Incremented  {"amount":10}\n');
  });

  it('prints the whole result with --json', async () => {
    const { code, stdout } = await cli(['execute', 'bank_account', 'acc1', 'OpenAccount', '{"initial_balance":100}', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      stream: 'bank_account-acc1',
      version: 1,
      events: [{ type: 'AccountOpened', data: { initial_balance: 100 } }],
    });
  });

  it("exits 1 on a rejection, with the aggregate's code", async () => {
    const text = await cli(['execute', 'bank_account', 'acc1', 'Withdraw', '{"amount":1000}']);
    expect(text.code).toBe(1);
    expect(text.stderr).toBe(
      'Rejected: INSUFFICIENT_FUNDS: cannot withdraw 1000 from a balance of 100\n  data: {"balance":100,"requested":1000}\n',
    );
    const json = await cli(['execute', 'bank_account', 'acc1', 'Withdraw', '{"amount":1000}', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({
      status: 422,
      code: 'COMMAND_REJECTED',
      data: { code: 'INSUFFICIENT_FUNDS', data: { balance: 100, requested: 1000 } },
    });
  });

  it('exits 1 on a conflict and when the runtime cannot be reached', async () => {
    const conflict = await cli(['execute', 'counter', 'abc123', 'Increment', '{"amount":1}', '--expected-version', '7']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('WRONG_EXPECTED_VERSION');
    const down = await thalo(['execute', 'counter', 'x', 'Increment', '{}', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('RUNTIME_UNREACHABLE');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['execute', 'counter', 'x', 'Increment', '{"amount":'])).code).toBe(2);
    expect((await cli(['execute', 'counter'])).code).toBe(2);
    expect((await cli(['nonsense'])).code).toBe(2);
    expect((await cli(['events', '--from', 'zero'])).code).toBe(2);
  });
});

describe('reading through the CLI', () => {
  it("thalo stream prints one aggregate's events in order", async () => {
    for (const amount of [1, 2, 3]) await cli(['execute', 'counter', 'seq', 'Increment', JSON.stringify({ amount })]);
    const text = await cli(['stream', 'counter', 'seq']);
    expect(text.code).toBe(0);
    expect(
      text.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/^\d+ {2}/, '')),
    ).toEqual([
      'counter-seq#1  Incremented {"amount":1}',
      'counter-seq#2  Incremented {"amount":2}',
      'counter-seq#3  Incremented {"amount":3}',
    ]);
    const json = await cli(['stream', 'counter', 'seq', '--json']);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual([1, 2, 3]);
  });

  it('thalo events prints the log from a position; --follow keeps going with new events', async () => {
    const head = (await request(`${runtime.url}/v1/events`, { headers: { authorization: `Bearer ${TOKEN}` } })).body.lastPosition as number;
    const all = await cli(['events', '--from', '1', '--json']);
    const positions = all.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).position);
    expect(positions).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    const tail = await cli(['events', '--from', String(head), '--limit', '1']);
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);

    // --follow: start at the head, then execute; the new event must show up.
    const follower = spawn(process.execPath, [
      join('dist/src/cli/thalo.js'),
      'events',
      '--follow',
      '--json',
      '--from',
      String(head + 1),
      '--url',
      runtime.url,
      '--token',
      TOKEN,
    ]);
    let out = '';
    const seen = new Promise<void>((resolveSeen) =>
      follower.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('counter-follow-me')) resolveSeen();
      }),
    );
    await cli(['execute', 'counter', 'follow-me', 'Increment', '{"amount":1}']);
    await seen;
    follower.kill('SIGINT');
    expect(JSON.parse(out.trim().split('\n')[0]!)).toMatchObject({ position: head + 1, stream: 'counter-follow-me' });
  });

  it('thalo modules lists what each module describes', async () => {
    const text = await cli(['modules']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('counter 1.0.0 (modules/counter.wasm)\n  commands: Increment\n  events:   Incremented');
    const json = JSON.parse((await cli(['modules', '--json'])).stdout);
    expect(json.modules.map((m: { name: string }) => m.name)).toEqual(['bank_account', 'counter', 'inventory', 'todos']);
  });

  it('thalo publish uploads a module that then serves; a bad file exits 1', async () => {
    const published = await cli(['publish', 'tally', join(runtime.modules, 'counter.wasm')]);
    expect(published.code).toBe(0);
    expect(published.stdout).toContain('Published tally 1.0.0');
    expect((await cli(['execute', 'tally', 't', 'Increment', '{"amount":2}'])).stdout).toContain('Incremented  {"amount":2}');
    const bad = await cli(['publish', 'tally', join(runtime.root, 'nothing-here.wasm')]);
    expect(bad.code).toBe(2);
    writeFileSync(join(runtime.root, 'garbage.wasm'), 'not a module');
    const invalid = await cli(['publish', 'tally', join(runtime.root, 'garbage.wasm')]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('MODULE_INVALID');
  });
});
