/**
 * Relay throughput over 200,000 events to the local Redis (127.0.0.1:6379) and NATS JetStream
 * (127.0.0.1:4222). Bars: 50,000 events/s to Redis, 30,000 to JetStream.
 *
 * Environment: BENCH_RELAY_EVENTS (default 200,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { pack } from 'msgpackr';
import { Engine } from '../src/engine/index.js';
import { Consumers } from '../src/projections/index.js';
import { startRelay } from '../src/relays/index.js';
import type { RelayOptions } from '../src/relays/index.js';
import { EventStore } from '../src/store/index.js';
import type { AppendRequest } from '../src/store/types.js';
import { describeMachine } from './machine.js';

const MODULES = resolve(process.env.THALO_BENCH_MODULES ?? 'modules');
const EVENTS = Number(process.env.BENCH_RELAY_EVENTS ?? 200_000);
const tag = `${process.pid}`;

async function writeLog(data: string): Promise<void> {
  const store = EventStore.open({ path: data, durability: 'relaxed' });
  const payload = pack({ amount: 1 });
  for (let written = 0; written < EVENTS; written += 1_000) {
    const requests: AppendRequest[] = Array.from({ length: 1_000 }, (_, i) => ({
      stream: `counter-${(written + i) % 1_000}`,
      events: [{ type: 'Incremented', data: payload }],
    }));
    await store.appendBatch(requests);
  }
  await store.close();
}

async function relayRate(options: RelayOptions): Promise<number> {
  const data = mkdtempSync(join(tmpdir(), 'thalo-bench-relay-'));
  await writeLog(data);
  const engine = await Engine.start({ modules: MODULES, data, workers: 1 });
  const started = performance.now();
  const relay = await startRelay(new Consumers(engine.log), options);
  await relay.projection.waitForPosition(EVENTS);
  const rate = EVENTS / ((performance.now() - started) / 1000);
  // Stopped before the engine, which closes the broker's connection (left open, it kept the
  // process alive after its last line).
  await relay.stop();
  await engine.stop();
  rmSync(data, { recursive: true, force: true });
  return rate;
}

console.log(describeMachine());
const redisKey = `thalo_bench_${tag}`;
const redisRate = await relayRate({ url: 'redis://127.0.0.1:6379', template: redisKey, batchSize: 2_000 });
const redis = new Redis(6379, '127.0.0.1');
const stored = await redis.xlen(redisKey);
await redis.del(redisKey);
redis.disconnect();
console.log(
  `relay to Redis Streams, ${EVENTS} events: ${Math.round(redisRate)} events/s (${stored} entries stored; bar 50,000) ${redisRate >= 50_000 ? 'ok' : 'BELOW BAR'}`,
);

const streamName = `THALO_BENCH_${tag}`;
const natsRate = await relayRate({ url: 'nats://127.0.0.1:4222', streamName, template: `thalo_bench_${tag}.{category}`, batchSize: 5_000 });
const nc = await connect({ servers: '127.0.0.1:4222' });
const manager = await nc.jetstreamManager();
const messages = (await manager.streams.info(streamName)).state.messages;
await manager.streams.delete(streamName);
await nc.close();
console.log(
  `relay to NATS JetStream, ${EVENTS} events: ${Math.round(natsRate)} events/s (${messages} messages stored; bar 30,000) ${natsRate >= 30_000 ? 'ok' : 'BELOW BAR'}`,
);
