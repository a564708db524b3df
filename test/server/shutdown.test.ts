/**
 * Graceful shutdown of the runtime as a process: SIGTERM under load loses no acknowledged
 * command, requests during the drain get 503, and the process exits 0. Also: a second runtime on
 * the same data directory refuses to start, and so does one on a directory of a newer format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { LMDB_FORMAT } from '../../src/store/databases.js';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { execute, request, spawnRuntime, startRuntime, tempRoot } from './runtime-process.js';

/** Every event of the log, read page by page. */
async function readLog(url: string): Promise<{ position: number; id: string }[]> {
  const events: { position: number; id: string }[] = [];
  for (let from = 1; ;) {
    const page = await request(`${url}/v1/events?from=${from}&limit=10000`);
    if (page.body.events.length === 0) return events;
    events.push(...page.body.events);
    from = page.body.next;
  }
}

const sum = (metrics: string, name: string) =>
  [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((total, m) => total + Number(m[1]), 0);

describe('SIGTERM', () => {
  it('under load, loses no acknowledged command and exits 0', async () => {
    const root = tempRoot();
    const runtime = await startRuntime({ root });
    const acknowledged = new Set<string>();
    const refusals = new Map<string, number>();
    let sent = 0;
    let stop = false;
    const CLIENTS = 24;
    const clients = Array.from({ length: CLIENTS }, async (_, k) => {
      for (let i = 0; !stop; i++) {
        sent++;
        try {
          const single = i % 2 === 0;
          if (single) {
            const { status, body } = await execute(runtime.url, 'counter', `load-${k}-${i % 5}`, 'Increment', { amount: 1 });
            if (status === 200) for (const e of body.events) acknowledged.add(e.id);
            else refusals.set(body.code, (refusals.get(body.code) ?? 0) + 1);
          } else {
            const commands = Array.from({ length: 10 }, (_, j) => ({
              aggregate: 'counter',
              id: `batch-${k}-${j}`,
              command: 'Increment',
              payload: { amount: 1 },
            }));
            const { status, body } = await request(`${runtime.url}/v1/commands`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ commands }),
            });
            if (status === 200) {
              for (const r of body.results) {
                if (r.status === 200) for (const e of r.result.events) acknowledged.add(e.id);
                else refusals.set(r.error.code, (refusals.get(r.error.code) ?? 0) + 1);
              }
            } else refusals.set(body.code, (refusals.get(body.code) ?? 0) + 1);
          }
        } catch {
          // The connection was closed or refused: the runtime has stopped listening.
          refusals.set('CONNECTION', (refusals.get('CONNECTION') ?? 0) + 1);
          if (runtime.child.exitCode !== null) return;
        }
      }
    });
    while (acknowledged.size < 2_000) await new Promise((r) => setTimeout(r, 5));
    runtime.child.kill('SIGTERM');
    expect(await runtime.exited).toBe(0);
    stop = true;
    await Promise.all(clients);
    expect(runtime.logs.map((l) => l.msg)).toContain('stopped');
    // Only the shutdown refused anything.
    expect([...refusals.keys()].filter((code) => !['DRAINING', 'ENGINE_STOPPED', 'CONNECTION'].includes(code))).toEqual([]);

    const again = await startRuntime({ root });
    const log = await readLog(again.url);
    expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
    const stored = new Set(log.map((e) => e.id));
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(acknowledged.size).toBeGreaterThanOrEqual(2_000);
    expect(sent).toBeGreaterThan(0);
    await again.stop();
  });

  it('answers 503 while draining, lets the command in flight finish, then exits 0', async () => {
    const root = tempRoot();
    await buildFixture('runaway', root.modules);
    const runtime = await startRuntime({ root, args: ['--command-timeout', '1500'] });
    // A command that holds the drain open until the deadline stops it.
    const looping = execute(runtime.url, 'runaway', 'spin', 'Loop', {});
    for (;;) {
      const metrics = (await request(`${runtime.url}/metrics`)).body as string;
      if (sum(metrics, 'thalo_shard_queue_depth') > 0) break;
    }
    runtime.child.kill('SIGTERM');
    await runtime.waitForLog((l) => l.msg.startsWith('draining'));
    const refused = await execute(runtime.url, 'counter', 'late', 'Increment', { amount: 1 });
    expect([refused.status, refused.body.code]).toEqual([503, 'DRAINING']);
    expect(refused.headers.get('connection')).toBe('close');
    expect((await request(`${runtime.url}/readyz`)).status).toBe(503);
    expect((await request(`${runtime.url}/healthz`)).status).toBe(200);
    const loop = await looping;
    expect([loop.status, loop.body.code]).toEqual([504, 'COMMAND_TIMEOUT']);
    expect(await runtime.exited).toBe(0);
  });
});

describe('start-up failures', () => {
  it('a second runtime on the same data directory exits 1 naming the lock', async () => {
    const root = tempRoot();
    const first = await startRuntime({ root });
    const second = spawnRuntime({ root });
    expect(await second.exited).toBe(1);
    expect(second.logs.find((l) => l.level === 60)).toMatchObject({ code: 'STORE_LOCKED' });
    expect((await execute(first.url, 'counter', 'still', 'Increment', { amount: 1 })).status).toBe(200);
    await first.stop();
  });

  it('a data directory written by a newer release (a higher format) exits 1 naming both formats, and is left as it was', async () => {
    const root = tempRoot();
    const first = await startRuntime({ root });
    expect((await execute(first.url, 'counter', 'kept', 'Increment', { amount: 1 })).status).toBe(200);
    await first.stop();
    const env = open({ path: root.data, maxDbs: 12 });
    await env.openDB<number, string>('format', { encoding: 'ordered-binary' }).put('version', LMDB_FORMAT + 1);
    await env.close();
    const before = readFileSync(join(root.data, 'data.mdb'));
    const second = spawnRuntime({ root });
    expect(await second.exited).toBe(1);
    const fatal = second.logs.find((l) => l.level === 60);
    expect(fatal).toMatchObject({
      code: 'STORE_SCHEMA_UNSUPPORTED',
      data: { version: LMDB_FORMAT + 1, supported: LMDB_FORMAT },
    });
    expect(String(fatal?.msg)).toContain('upgrade thalo-node');
    expect(readFileSync(join(root.data, 'data.mdb')).equals(before)).toBe(true);
  });
});
