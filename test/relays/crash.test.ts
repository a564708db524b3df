import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import { exitCode, killRounds } from '../crash-rounds.js';
import { NATS, REDIS, removeBrokerData, requireService, skipped } from '../services.js';

const CHILD = resolve('test/relays/fixtures/relay-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'thalo-relay-crash-'));
const tag = `${process.pid}_${Date.now()}`;
const redisKey = `thalo_test_crash_${tag}`;
const streamName = `THALO_TEST_CRASH_${tag}`;

beforeAll(async () => {
  await requireService(REDIS);
  await requireService(NATS);
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await removeBrokerData({ redisKeys: [redisKey], natsStreams: [streamName] });
});

function start(mode: 'load' | 'settle') {
  return spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, join(dir, 'data'), resolve('modules'), redisKey, streamName, `thalo_test_crash_${tag}`, mode],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

describe.skipIf(skipped(REDIS) || skipped(NATS))('relays across SIGKILL of the process', () => {
  it('Redis holds every event at least once, JetStream exactly once, both in log order', async () => {
    await killRounds(() => start('load'), 3, 200, 600);
    const settle = start('settle');
    expect(await exitCode(settle)).toBe(0);

    const store = EventStore.open({ path: join(dir, 'data') });
    const ids = store.readAll().map((e) => e.id);
    await store.close();
    expect(ids.length).toBeGreaterThan(100);

    const redis = new Redis(REDIS.port, '127.0.0.1');
    const rows = await redis.xrange(redisKey, '-', '+');
    redis.disconnect();
    const redisIds = rows.map(([, fields]) => fields[fields.indexOf('id') + 1]!);
    expect(redisIds.filter((id, i) => redisIds.indexOf(id) === i)).toEqual(ids);

    const nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
    const manager = await nc.jetstreamManager();
    const info = await manager.streams.info(streamName);
    const natsIds: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      natsIds.push((await manager.streams.getMessage(streamName, { seq })).header!.get('Nats-Msg-Id'));
    }
    await nc.close();
    expect(natsIds).toEqual(ids);
  }, 120_000);
});
