import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { Consumers } from '../../src/projections/index.js';
import { startRelay } from '../../src/relays/index.js';
import { startEngine, tempDir } from '../engine/helpers.js';
import { writeEventsBeforeTheValueRule } from '../fixtures/legacy-events.js';
import { REDIS, requireService, restartablePort, skipped, startBroker, stopBroker } from '../services.js';

const suffix = `${process.pid}_${Date.now()}`;
let redis: Redis;

beforeAll(async () => {
  await requireService(REDIS);
  redis = new Redis(REDIS.port, '127.0.0.1');
});
afterAll(async () => {
  if (!redis) return;
  const keys = await redis.keys(`thalo_test_${suffix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function load(engine: Engine, n: number, prefix = 'r'): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => engine.execute('counter', `${prefix}${i % 7}`, 'Increment', { amount: i + 1 })));
}

async function entries(client: Redis, key: string): Promise<Record<string, string>[]> {
  const rows = await client.xrange(key, '-', '+');
  return rows.map(([, fields]) =>
    Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i]!, fields[2 * i + 1]!])),
  );
}

describe.skipIf(skipped(REDIS))('relay to Redis Streams', () => {
  it('appends every event, in order, with the native fields, under the key template', async () => {
    const engine = await startEngine();
    const relay = await startRelay(new Consumers(engine.log), {
      url: 'redis://127.0.0.1:6379',
      template: `thalo_test_${suffix}_{category}`,
    });
    await load(engine, 300);
    await engine.execute('bank_account', 'b1', 'OpenAccount', { initial_balance: 5 });
    await relay.projection.waitForPosition(await engine.lastPosition());
    const counter = await entries(redis, `thalo_test_${suffix}_counter`);
    expect(counter.map((e) => Number(e.position))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const log = await engine.readAll();
    expect(counter[0]).toEqual({
      type: 'Incremented',
      id: log[0]!.id,
      stream: log[0]!.stream,
      seq: '1',
      position: '1',
      timestamp: new Date(log[0]!.timestamp).toISOString(),
      data: JSON.stringify(log[0]!.data),
      metadata: '{}',
    });
    const bank = await entries(redis, `thalo_test_${suffix}_bank_account`);
    expect(bank.map((e) => e.type)).toEqual(['AccountOpened']);
    expect(relay.info()).toMatchObject({ state: 'connected', lag: 0 });
  });

  it('writes CloudEvents and trims with MAXLEN ~', async () => {
    const engine = await startEngine();
    const key = `thalo_test_${suffix}_ce_{event}`;
    const relay = await startRelay(new Consumers(engine.log), {
      url: 'redis://127.0.0.1:6379',
      template: key,
      format: 'cloudevents',
      maxLen: 10,
      batchSize: 50,
    });
    await load(engine, 1_000, 'ce');
    await relay.projection.waitForPosition(1_000);
    const stored = await entries(redis, `thalo_test_${suffix}_ce_Incremented`);
    expect(stored.length).toBeLessThan(1_000);
    const last = JSON.parse(stored[stored.length - 1]!.cloudevent!) as Record<string, unknown>;
    expect(last).toMatchObject({ specversion: '1.0', source: 'thalo-runtime', type: 'Incremented', thaloposition: 1_000 });
    expect(last.id).toBe((await engine.readAll({ from: 1_000 }))[0]!.id);
  });
});

describe.skipIf(skipped(REDIS))('relay to Redis: events stored before the value rule (issue 13, item 1)', () => {
  it('relays an int64 past 2^53 as a decimal string and undecodable bytes as null, and goes on past them', async () => {
    const data = tempDir();
    await writeEventsBeforeTheValueRule(data);
    const engine = await startEngine({ data });
    const key = `thalo_test_${suffix}_legacy`;
    const relay = await startRelay(new Consumers(engine.log), { url: 'redis://127.0.0.1:6379', template: key });
    await relay.projection.waitForPosition(3);
    const stored = await entries(redis, key);
    expect(stored.map((e) => e.data)).toEqual(['{"amount":"1000000000000000000"}', 'null', '{"amount":1}']);
  });
});

describe.skipIf(skipped(REDIS))('relay to Redis through outages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'thalo-redis-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const serverArgs = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
  ];

  it('starts without its broker, says so once, and catches up when the broker comes; survives a restart mid-stream', async () => {
    const port = await restartablePort();
    const states: string[] = [];
    const engine = await startEngine();
    const relay = await startRelay(new Consumers(engine.log), {
      url: `redis://127.0.0.1:${port}`,
      template: 'outage',
      retryInitialMs: 20,
      retryMaxMs: 200,
      onStateChange: (state) => states.push(state),
    });
    await load(engine, 100, 'o');
    // Commands are accepted while the broker is down; the relay reports "failing" once.
    await expect.poll(() => states).toEqual(['failing']);
    let server = await startBroker('redis-server', serverArgs(port), port);
    try {
      await relay.projection.waitForPosition(100);
      expect(states).toEqual(['failing', 'connected']);
      await stopBroker(server);
      await load(engine, 100, 'p');
      await expect.poll(() => states.length).toBe(3);
      server = await startBroker('redis-server', serverArgs(port), port);
      await relay.projection.waitForPosition(200);
      const client = new Redis(port, '127.0.0.1');
      const stored = await entries(client, 'outage');
      client.disconnect();
      // At least once: every event there, in log order once duplicates are dropped.
      const firsts = stored.map((e) => Number(e.position)).filter((p, i, all) => all.indexOf(p) === i);
      expect(firsts).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(states).toEqual(['failing', 'connected', 'failing', 'connected']);
    } finally {
      await stopBroker(server);
    }
  }, 60_000);
});
