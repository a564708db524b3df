/**
 * A relay's failures carry codes of their own (not `INTERNAL`): `RELAY_UNREACHABLE` when the
 * broker is not there or does not answer, `RELAY_REJECTED` when it answers and refuses. Each
 * target is driven directly, against a closed port and against a live broker made to refuse.
 */
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { isThaloError } from '../../src/errors.js';
import type { ExecutedEvent } from '../../src/protocol/commands.js';
import { NatsTarget } from '../../src/relays/nats-target.js';
import { RedisTarget } from '../../src/relays/redis-target.js';
import { NATS, REDIS, freePort, requireService, skipped } from '../services.js';

const suffix = `${process.pid}_${Date.now()}`;
const event: ExecutedEvent = {
  position: 1,
  stream: 'counter-e',
  seq: 1,
  id: `evt-${suffix}`,
  type: 'Incremented',
  data: { amount: 1 },
  timestamp: Date.now(),
  metadata: {},
};

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the publish to fail');
}

describe.skipIf(skipped(REDIS))('Redis target failures', () => {
  const key = `relay_errors_${suffix}`;
  afterAll(async () => {
    const client = new Redis(REDIS.port, '127.0.0.1');
    await client.del(key);
    client.disconnect();
  });

  it('is RELAY_UNREACHABLE when nothing listens', async () => {
    const target = new RedisTarget({
      url: `redis://127.0.0.1:${await freePort()}`,
      template: key,
      maxLen: 100,
      format: 'native',
      source: 'test',
    });
    const error = await failure(() => target.publish([event]));
    await target.close();
    expect(isThaloError(error, 'RELAY_UNREACHABLE'), String(error)).toBe(true);
    expect((error as Error).message).toContain('cannot reach Redis at redis://127.0.0.1:');
  });

  it('is RELAY_REJECTED when Redis answers with an error (the key holds a string)', async () => {
    await requireService(REDIS);
    const client = new Redis(REDIS.port, '127.0.0.1');
    await client.set(key, 'not a stream');
    client.disconnect();
    const target = new RedisTarget({
      url: `redis://127.0.0.1:${REDIS.port}`,
      template: key,
      maxLen: 100,
      format: 'native',
      source: 'test',
    });
    const error = await failure(() => target.publish([event]));
    await target.close();
    expect(isThaloError(error, 'RELAY_REJECTED'), String(error)).toBe(true);
    expect((error as Error).message).toContain('WRONGTYPE');
  });
});

describe.skipIf(skipped(NATS))('NATS target failures', () => {
  it('is RELAY_UNREACHABLE when nothing listens', async () => {
    const target = new NatsTarget({
      url: `nats://127.0.0.1:${await freePort()}`,
      template: 'relay_errors.{event}',
      streamName: `RELAY_ERRORS_${suffix}`,
      createStream: true,
      format: 'native',
      source: 'test',
    });
    const error = await failure(() => target.publish([event]));
    await target.close();
    expect(isThaloError(error, 'RELAY_UNREACHABLE'), String(error)).toBe(true);
    expect((error as Error).message).toContain('cannot reach NATS at nats://127.0.0.1:');
  });

  it('is RELAY_REJECTED when no JetStream stream takes the subjects any more', async () => {
    await requireService(NATS);
    const streamName = `RELAY_ERRORS_${suffix}`;
    const target = new NatsTarget({
      url: `nats://127.0.0.1:${NATS.port}`,
      template: `relay_errors_${suffix}.{event}`,
      streamName,
      createStream: true,
      format: 'native',
      source: 'test',
    });
    await target.publish([event]);
    const nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
    await (await nc.jetstreamManager()).streams.delete(streamName);
    await nc.close();
    const error = await failure(() => target.publish([{ ...event, id: `${event.id}-2` }]));
    await target.close();
    expect(isThaloError(error, 'RELAY_REJECTED'), String(error)).toBe(true);
    expect((error as Error).message).toContain(streamName);
  });
});
