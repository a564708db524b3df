/**
 * `thalo-runtime --store postgres://…` as a process, under load, through faults: its database
 * connections terminated by the server (`pg_terminate_backend`), the database unreachable for a
 * while (a TCP proxy cut), and the runtime SIGKILLed and started again. Clients retry every
 * command with its command id until it is acknowledged. Then every command is in the log exactly
 * once, where its acknowledgement said, the log is dense, and the runtime serves.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/store/postgres/index.js';
import { expectDenseLog, underTest } from '../store/contract/support.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres, sql, startProxy } from '../store/postgres-helpers.js';
import type { RuntimeProcess } from './runtime-process.js';
import { spawnRuntime, startRuntime, tempRoot } from './runtime-process.js';

const schemas: string[] = [];

interface Ack {
  commandId: string;
  position: number;
}

async function post(url: string, id: string, commandId: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/v1/aggregates/counter/${id}/commands/Increment`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'thalo-command-id': commandId },
    body: JSON.stringify({ amount: 1 }),
  });
  return { status: response.status, body: await response.json() };
}

describe.skipIf(postgresSkipped)('thalo-runtime on PostgreSQL', () => {
  beforeAll(requirePostgres);
  afterAll(() => dropSchemas(schemas));

  it('exits 1 at start when the database cannot be reached, naming the URL with its password hidden', async () => {
    const proxy = await startProxy();
    await proxy.close();
    const url = new URL(proxy.url);
    url.username = 'app';
    url.password = 'hunter2-secret';
    const runtime = spawnRuntime({ args: ['--store', url.toString(), '--schema', freshSchema()] });
    expect(await runtime.exited).toBe(1);
    const fatal = runtime.logs.find((line) => line.level === 60)!;
    expect(fatal).toMatchObject({ code: 'STORE_UNAVAILABLE', data: { url: `postgres://app:***@127.0.0.1:${proxy.port}${url.pathname}` } });
    expect(fatal.msg).toContain(`cannot start: the PostgreSQL event store at postgres://app:***@127.0.0.1:${proxy.port}`);
    expect(JSON.stringify(runtime.logs)).not.toContain('hunter2-secret');
  });

  it('keeps every acknowledged command exactly once through terminated connections, an outage and a SIGKILL', async () => {
    const proxy = await startProxy();
    const schema = freshSchema();
    schemas.push(schema);
    const application = `thalo_test_${randomBytes(4).toString('hex')}`;
    const store = `${proxy.url}?application_name=${application}`;
    const root = tempRoot();
    const args = ['--store', store, '--schema', schema];
    let runtime: RuntimeProcess | undefined = await startRuntime({ root, args });
    let url = runtime.url;

    const acks: Ack[] = [];
    const refusals = new Map<string, number>();
    let sent = 0;
    let stopLoad = false;
    const lane = async (lane: number): Promise<void> => {
      for (let i = 0; !stopLoad; i++) {
        const commandId = `l${lane}-${i}`;
        sent++;
        // The same command id until the runtime acknowledges it, whatever happens meanwhile.
        for (;;) {
          const outcome = await post(url, `c${(lane * 7 + i) % 40}`, commandId).catch(() => ({
            status: 0,
            body: { code: 'NO_CONNECTION' },
          }));
          if (outcome.status === 200) {
            acks.push({ commandId, position: outcome.body.events[0]?.position ?? outcome.body.version });
            break;
          }
          const code = String(outcome.body?.code);
          refusals.set(code, (refusals.get(code) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, i) => lane(i)));
    const waitForAcks = async (n: number) => {
      const target = acks.length + n;
      while (acks.length < target) await new Promise((r) => setTimeout(r, 20));
    };

    // 1. The server terminates the runtime's connections.
    await waitForAcks(200);
    const terminated = await sql<{ ok: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [application],
    );
    expect(terminated.length).toBeGreaterThan(0);
    await waitForAcks(200);

    // 2. The database cannot be reached for a while: /readyz says so, then recovers.
    await proxy.cut();
    let unready: any;
    for (let tries = 0; tries < 200 && unready === undefined; tries++) {
      const response = await fetch(`${url}/readyz`);
      if (response.status === 503) unready = await response.json();
      else await new Promise((r) => setTimeout(r, 25));
    }
    expect(unready?.code).toBe('STORE_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 1_000));
    await proxy.restore();
    for (let tries = 0; tries < 400; tries++) {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await waitForAcks(200);

    // 3. SIGKILL under load, and a new runtime on the same schema.
    await runtime.stop('SIGKILL');
    runtime = await startRuntime({ root, args });
    url = runtime.url;
    await waitForAcks(200);
    stopLoad = true;
    await load;
    expect(await runtime.stop()).toBe(0);
    await proxy.close();

    // Every command was acknowledged once the lanes ended; the log holds each exactly once.
    expect(acks).toHaveLength(sent);
    expect(refusals.get('STORE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
    const check = await PostgresEventStore.open({ url: POSTGRES.url, schema });
    try {
      await expectDenseLog(underTest(check));
      const log = await check.readAll();
      const byCommand = new Map<string, number[]>();
      for (const event of log) {
        const id = event.metadata.commandId!;
        byCommand.set(id, [...(byCommand.get(id) ?? []), event.position]);
      }
      expect(log).toHaveLength(sent);
      for (const { commandId, position } of acks) expect(byCommand.get(commandId), commandId).toEqual([position]);
    } finally {
      await check.close();
    }
  }, 120_000);
});
