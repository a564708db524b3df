/**
 * `GET /v1/projections` and `POST /v1/projections/:name/reset` for the consumers the engine runs
 * in-process (projections and relays), which `thalo-runtime` as a process has no flag to start:
 * an engine and the API in this process, driven through Fastify's `inject`.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine, ExecutedEvent } from '../../src/engine/index.js';
import { Consumers } from '../../src/projections/index.js';
import { startRelay } from '../../src/relays/index.js';
import { ApiServer, ModuleDirectory } from '../../src/server/index.js';
import { EXAMPLE_MODULES, startEngine } from '../engine/helpers.js';

let engine: Engine;
let consumers: Consumers;
let api: ApiServer;

beforeEach(async () => {
  engine = await startEngine();
  consumers = new Consumers(engine.log);
  const logger = pino({ level: 'silent' });
  api = new ApiServer({
    engine,
    consumers,
    modules: new ModuleDirectory({ engine, directory: EXAMPLE_MODULES, logger }),
    logger,
    maxPayloadBytes: 1 << 20,
  });
  await api.app.ready();
});

afterEach(async () => {
  await api.app.close();
});

async function increment(times: number): Promise<number> {
  let position = 0;
  for (let i = 0; i < times; i++) position = (await engine.execute('counter', `p-${i}`, 'Increment', { amount: 1 })).events[0]!.position;
  return position;
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) {
  const response = await api.app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: response.statusCode, body: response.json() };
}

describe('in-process projections through the API', () => {
  it('lists a projection with its checkpoint and lag, and a reset replays it from the position', async () => {
    const seen: number[] = [];
    const projection = consumers.project('counts', (events: ExecutedEvent[]) => {
      for (const e of events) seen.push(e.position);
    });
    const head = await increment(6);
    await projection.waitForPosition(head);
    const { status, body } = await call('GET', '/v1/projections');
    expect(status).toBe(200);
    expect(body.projections).toEqual([{ name: 'counts', kind: 'projection', status: 'running', position: head, lag: 0, failures: 0 }]);

    const reset = await call('POST', '/v1/projections/counts/reset', { position: head - 3 });
    expect(reset).toMatchObject({ status: 200, body: { name: 'counts', kind: 'projection' } });
    expect(reset.body.position).toBeGreaterThanOrEqual(head - 3);
    await projection.waitForPosition(head);
    // Everything after the reset position was handled a second time, nothing before it.
    expect(seen).toEqual([...Array.from({ length: head }, (_, i) => i + 1), head - 2, head - 1, head]);
    expect((await call('GET', '/v1/projections')).body.projections[0]).toMatchObject({ position: head, lag: 0 });
  });

  it("refuses a subscriber that takes a running projection's name with 409 SUBSCRIBER_NAME_IN_USE", async () => {
    const projection = consumers.project('taken', () => undefined);
    await increment(1);
    await projection.waitForPosition(1);
    const subscribe = await call('GET', '/v1/subscribe?subscriber=taken');
    expect(subscribe).toMatchObject({ status: 409, body: { code: 'SUBSCRIBER_NAME_IN_USE' } });
    const ack = await call('POST', '/v1/subscribers/taken/ack', { position: 1 });
    expect(ack).toMatchObject({ status: 409, body: { code: 'SUBSCRIBER_NAME_IN_USE' } });
    // Nor can the subscriber API delete the projection's checkpoint.
    expect(await call('DELETE', '/v1/subscribers/taken')).toMatchObject({ status: 409, body: { code: 'SUBSCRIBER_NAME_IN_USE' } });
    // The projection's checkpoint is its own: the refused ack wrote nothing anywhere.
    expect(await engine.log.listCheckpoints('subscriber:')).toEqual([]);
    // Once it is stopped the name is free again for a subscriber (whose checkpoint is apart).
    await projection.stop();
    expect(await call('POST', '/v1/subscribers/taken/ack', { position: 0 })).toMatchObject({
      status: 200,
      body: { name: 'taken', position: 0 },
    });
    expect(await engine.log.getCheckpoint('taken')).toBe(1);
    // Deleting the subscriber leaves the stopped projection's checkpoint alone.
    expect(await call('DELETE', '/v1/subscribers/taken')).toMatchObject({ status: 200, body: { name: 'taken', deleted: true } });
    expect(await engine.log.listCheckpoints('subscriber:')).toEqual([]);
    expect(await engine.log.getCheckpoint('taken')).toBe(1);
  });

  it('lists a relay and resets it, and refuses its name to subscribers', async () => {
    // A broker nobody listens on: the relay keeps retrying, which a reset does not disturb.
    await startRelay(consumers, { url: 'redis://127.0.0.1:1', name: 'to-redis', retryInitialMs: 10, retryMaxMs: 50 });
    await increment(2);
    const { body } = await call('GET', '/v1/projections');
    expect(body.projections).toEqual([
      expect.objectContaining({ name: 'to-redis', kind: 'relay', position: 0, lag: 2, target: 'Redis Streams at redis://127.0.0.1:1' }),
    ]);
    expect(await call('POST', '/v1/subscribers/to-redis/ack', { position: 1 })).toMatchObject({
      status: 409,
      body: { code: 'SUBSCRIBER_NAME_IN_USE' },
    });
    expect(await call('POST', '/v1/projections/to-redis/reset', { position: 1 })).toMatchObject({
      status: 200,
      body: { name: 'to-redis', kind: 'relay', position: 1, lag: 1 },
    });
  });
});
