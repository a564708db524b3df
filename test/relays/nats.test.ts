import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { Consumers } from '../../src/projections/index.js';
import { startRelay } from '../../src/relays/index.js';
import { startEngine } from '../engine/helpers.js';
import { NATS, requireService, restartablePort, skipped, startBroker, stopBroker } from '../services.js';

const suffix = `${process.pid}_${Date.now()}`;
const decoder = new TextDecoder();
let nc: NatsConnection;
const streams: string[] = [];

beforeAll(async () => {
  await requireService(NATS);
  nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
});
afterAll(async () => {
  if (!nc) return;
  const manager = await nc.jetstreamManager();
  for (const name of streams) await manager.streams.delete(name).catch(() => undefined);
  await nc.close();
});

async function load(engine: Engine, n: number, prefix = 'n'): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => engine.execute('counter', `${prefix}${i % 5}`, 'Increment', { amount: 1 })));
}

/** Every message of a JetStream stream, in stream order. */
async function messages(
  connection: NatsConnection,
  stream: string,
): Promise<{ subject: string; msgId: string | undefined; body: Record<string, unknown> }[]> {
  const manager = await connection.jetstreamManager();
  const info = await manager.streams.info(stream);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await manager.streams.getMessage(stream, { seq });
    out.push({
      subject: m.subject,
      msgId: m.header?.get('Nats-Msg-Id'),
      body: JSON.parse(decoder.decode(m.data)) as Record<string, unknown>,
    });
  }
  return out;
}

describe.skipIf(skipped(NATS))('relay to NATS JetStream', () => {
  it('publishes every event once, in order, with the event id as Nats-Msg-Id, creating the stream', async () => {
    const engine = await startEngine();
    const streamName = `THALO_TEST_${suffix}`;
    streams.push(streamName);
    const relay = await startRelay(new Consumers(engine.log), {
      url: 'nats://127.0.0.1:4222',
      streamName,
      template: `thalo_test_${suffix}.{category}.{event}`,
    });
    await load(engine, 200);
    await relay.projection.waitForPosition(200);
    const stored = await messages(nc, streamName);
    const log = await engine.readAll();
    expect(stored.map((m) => m.msgId)).toEqual(log.map((e) => e.id));
    expect(stored[0]!.subject).toBe(`thalo_test_${suffix}.counter.Incremented`);
    expect(stored[0]!.body).toMatchObject({ type: 'Incremented', position: '1', seq: '1', data: { amount: 1 } });
  });

  it('writes CloudEvents, and refuses a missing stream when told not to create it', async () => {
    const engine = await startEngine();
    const streamName = `THALO_TEST_CE_${suffix}`;
    streams.push(streamName);
    const relay = await startRelay(new Consumers(engine.log), {
      url: 'nats://127.0.0.1:4222',
      streamName,
      template: `thalo_test_ce_${suffix}.{event}`,
      format: 'cloudevents',
    });
    await load(engine, 3, 'ce');
    await relay.projection.waitForPosition(3);
    const [first] = await messages(nc, streamName);
    expect(first!.body).toMatchObject({
      specversion: '1.0',
      id: (await engine.readAll())[0]!.id,
      type: 'Incremented',
      subject: (await engine.readAll())[0]!.stream,
    });

    const errors: unknown[] = [];
    const strict = await startRelay(new Consumers(engine.log), {
      name: 'strict',
      url: 'nats://127.0.0.1:4222',
      streamName: `THALO_MISSING_${suffix}`,
      createStream: false,
      template: `thalo_missing_${suffix}.{event}`,
      retryInitialMs: 10,
      onStateChange: (_s, e) => errors.push(e),
    });
    await expect.poll(() => errors.length).toBe(1);
    expect(String((errors[0] as Error).message)).toContain(`THALO_MISSING_${suffix} does not exist`);
    expect(strict.info()).toMatchObject({ state: 'failing', position: 0 });
  });
});

describe.skipIf(skipped(NATS))('relay to NATS through an outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'thalo-nats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds every event exactly once after the broker is stopped and restarted mid-stream', async () => {
    const port = await restartablePort();
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir];
    let server = await startBroker('nats-server', args, port);
    const states: string[] = [];
    const engine = await startEngine();
    const relay = await startRelay(new Consumers(engine.log), {
      url: `nats://127.0.0.1:${port}`,
      retryInitialMs: 20,
      retryMaxMs: 300,
      onStateChange: (s) => states.push(s),
    });
    try {
      await load(engine, 100, 'a');
      await relay.projection.waitForPosition(100);
      await stopBroker(server);
      await load(engine, 100, 'b');
      await expect.poll(() => states.includes('failing'), { timeout: 20_000 }).toBe(true);
      server = await startBroker('nats-server', args, port);
      await relay.projection.waitForPosition(200);
      const client = await connect({ servers: `127.0.0.1:${port}` });
      const stored = await messages(client, 'THALO_EVENTS');
      await client.close();
      expect(stored.map((m) => Number(m.body.position))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    } finally {
      await engine.stop();
      await stopBroker(server);
    }
  }, 60_000);
});
