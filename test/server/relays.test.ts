/**
 * Relays configured on `thalo-runtime`'s command line, with the runtime as a process: options
 * ride on each `--relay` URL, a broker that is down at start does not stop the runtime (it says
 * so once and catches up when the broker comes), and a `--relay` it cannot use is a usage error.
 */
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATS, REDIS, removeBrokerData, requireService, restartablePort, skipped, startBroker, stopBroker } from '../services.js';
import { RUNTIME, execute, startRuntime } from './runtime-process.js';

const tag = `${process.pid}_${Date.now()}`;
const redisKey = `thalo_test_runtime_${tag}`;
const streamName = `THALO_TEST_RUNTIME_${tag}`;

beforeAll(async () => {
  await requireService(REDIS);
  await requireService(NATS);
});
afterAll(() => removeBrokerData({ redisKeys: [redisKey], natsStreams: [streamName] }));

/** Positions of the entries of a Redis stream, in stream order. */
async function redisPositions(port: number, key: string): Promise<number[]> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const rows = await client.xrange(key, '-', '+');
    return rows.map(([, fields]) => Number(fields[fields.indexOf('position') + 1]));
  } finally {
    client.disconnect();
  }
}

describe.skipIf(skipped(REDIS) || skipped(NATS))('thalo-runtime --relay', () => {
  it('relays to the brokers named on the command line, with the options in each URL', async () => {
    const runtime = await startRuntime({
      args: [
        '--relay',
        `redis://127.0.0.1:${REDIS.port}?template=${redisKey}&maxLen=100000`,
        '--relay',
        `nats://127.0.0.1:${NATS.port}?stream=${streamName}&template=${redisKey}.{category}.{event}`,
      ],
    });
    for (let i = 0; i < 20; i++) expect((await execute(runtime.url, 'counter', `r${i % 3}`, 'Increment', { amount: 1 })).status).toBe(200);
    await expect.poll(() => redisPositions(REDIS.port, redisKey), { timeout: 10_000 }).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
    const manager = await nc.jetstreamManager();
    await expect.poll(async () => (await manager.streams.info(streamName)).state.messages, { timeout: 10_000 }).toBe(20);
    const first = await manager.streams.getMessage(streamName, { seq: 1 });
    expect(first.subject).toBe(`${redisKey}.counter.Incremented`);
    await nc.close();
    expect(runtime.logs.filter((l) => l.msg === 'relay started').map((l) => l.target)).toEqual([
      `Redis Streams at redis://127.0.0.1:${REDIS.port}`,
      `NATS JetStream at nats://127.0.0.1:${NATS.port} (stream ${streamName})`,
    ]);
    expect(await runtime.stop()).toBe(0);
  });

  it('starts while the broker is down, says so once, and catches up when it comes', async () => {
    const port = await restartablePort();
    const runtime = await startRuntime({ args: ['--relay', `redis://127.0.0.1:${port}?template=late`] });
    // Commands are accepted while the relay cannot deliver.
    for (let i = 0; i < 10; i++) expect((await execute(runtime.url, 'counter', 'down', 'Increment', { amount: 1 })).status).toBe(200);
    const failing = await runtime.waitForLog((l) => l.msg.startsWith('relay cannot deliver'));
    expect(failing).toMatchObject({ level: 40, relay: `relay:redis://127.0.0.1:${port}?template=late`, code: 'RELAY_UNREACHABLE' });
    const server = await startBroker(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      port,
    );
    try {
      await runtime.waitForLog((l) => l.msg === 'relay delivering', 30_000);
      await expect.poll(() => redisPositions(port, 'late'), { timeout: 10_000 }).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      // Once per change of state, not once per try.
      expect(runtime.logs.filter((l) => l.msg.startsWith('relay cannot deliver'))).toHaveLength(1);
    } finally {
      await stopBroker(server);
    }
    expect(await runtime.stop()).toBe(0);
  }, 60_000);

  it('exits 2 on a --relay it cannot use, naming the parameter', async () => {
    const bad = spawnSync(process.execPath, [RUNTIME, '--relay', 'redis://127.0.0.1:6379?maxlen=5'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown parameter "maxlen"');
  });
});
