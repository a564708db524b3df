/**
 * Reading back what the runtime's relays delivered, under names unique to one run: Redis stream
 * keys `<prefix>.<category>` and a JetStream stream whose subjects are `<prefix>.*` (the runtime
 * gets `--relay-template <prefix>.{category}` and `--relay-stream <stream>`), so test files that
 * use the same brokers at the same time do not mix in.
 */
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { NATS, REDIS, removeBrokerData } from '../services.js';
import { pollUntil } from './runtime-reads.js';

export interface RelayNames {
  /** The Redis keys and the NATS subjects start with this. */
  prefix: string;
  /** The JetStream stream. */
  stream: string;
}

export function relayNames(tag: string): RelayNames {
  return { prefix: `thalo_torture_${tag}`, stream: `THALO_TORTURE_${tag}` };
}

/** The runtime's flags for both relays with these names. */
export function relayArgs(names: RelayNames, redis: boolean, nats: boolean): string[] {
  const args: string[] = [];
  if (redis) args.push('--relay', `redis://127.0.0.1:${REDIS.port}`);
  if (nats) args.push('--relay', `nats://127.0.0.1:${NATS.port}`);
  if (redis || nats) args.push('--relay-template', `${names.prefix}.{category}`, '--relay-stream', names.stream);
  return args;
}

/**
 * The Redis streams' event ids once they hold at least `count` distinct ones, or as they are after
 * `timeoutMs`: the relay is at least once and asynchronous, so the test waits (bounded) for it.
 */
export function redisCaughtUp(names: RelayNames, count: number, timeoutMs: number): Promise<Map<string, string[]>> {
  return pollUntil(
    () => redisEventIds(names),
    (keys) => new Set([...keys.values()].flat()).size >= count,
    timeoutMs,
  );
}

/** Every event id in the Redis streams of the run, per key in stream order. */
export async function redisEventIds(names: RelayNames): Promise<Map<string, string[]>> {
  const redis = new Redis(REDIS.port, '127.0.0.1');
  try {
    const out = new Map<string, string[]>();
    for (const key of (await redis.keys(`${names.prefix}.*`)).sort()) {
      const rows = await redis.xrange(key, '-', '+');
      out.set(
        key,
        rows.map(([, fields]) => fields[fields.indexOf('id') + 1]!),
      );
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Every message of the run's JetStream stream, in stream order: its Nats-Msg-Id (the event id). */
export async function jetStreamEventIds(names: RelayNames): Promise<string[]> {
  const nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
  try {
    const manager = await nc.jetstreamManager();
    const info = await manager.streams.info(names.stream).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    // An ordered consumer reads the stream in batches instead of a request per message.
    const consumer = await nc.jetstream().consumers.get(names.stream);
    const ids: string[] = [];
    for (let last = 0; last < info.state.last_seq;) {
      const batch = await consumer.fetch({ max_messages: 1_000, expires: 2_000 });
      let got = 0;
      for await (const message of batch) {
        got++;
        ids.push(message.headers?.get('Nats-Msg-Id') ?? '');
        last = message.info.streamSequence;
        if (last >= info.state.last_seq) break;
      }
      if (got === 0) throw new Error(`JetStream stream ${names.stream} stopped delivering at sequence ${last} of ${info.state.last_seq}`);
    }
    return ids;
  } finally {
    await nc.close();
  }
}

/** Delete the run's keys and stream. */
export async function deleteRelayed(names: RelayNames, redis: boolean, nats: boolean): Promise<void> {
  await removeBrokerData({ redisKeys: redis ? [`${names.prefix}.*`] : [], natsStreams: nats ? [names.stream] : [] });
}
