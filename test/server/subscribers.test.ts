/**
 * Remote subscribers against the runtime as a process: a named subscriber's checkpoint kept by
 * the runtime (acks), the resume from checkpoint + 1 after a disconnect, the checkpoint across a
 * SIGKILL, `GET /v1/projections`, resets (the open stream replays at once), the lag metric, and
 * every refusal the API documents for these routes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { request, startRuntime, tempRoot } from './runtime-process.js';
import type { RuntimeProcess } from './runtime-process.js';
import { SseReader } from './sse-reader.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Append `count` events (one Increment each) in one batch; resolves with the log's head. */
async function appendEvents(url: string, count: number, tag = 'sub'): Promise<number> {
  const commands = Array.from({ length: count }, (_, i) => ({
    aggregate: 'counter',
    id: `${tag}-${i}`,
    command: 'Increment',
    payload: { amount: 1 },
  }));
  const { status, body } = await request(`${url}/v1/commands`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ commands }),
  });
  expect(status).toBe(200);
  return Math.max(...body.results.map((r: { result: { events: { position: number }[] } }) => r.result.events.at(-1)!.position));
}

function ack(url: string, name: string, body: unknown, raw?: string) {
  return request(`${url}/v1/subscribers/${encodeURIComponent(name)}/ack`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: raw ?? JSON.stringify(body),
  });
}

function reset(url: string, name: string, body?: unknown) {
  return request(`${url}/v1/projections/${encodeURIComponent(name)}/reset`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: JSON_HEADERS, body: JSON.stringify(body) }),
  });
}

async function listed(url: string, name: string): Promise<Record<string, unknown> | undefined> {
  const { status, body } = await request(`${url}/v1/projections`);
  expect(status).toBe(200);
  return (body.projections as { name: string }[]).find((p) => p.name === name);
}

/** Ask until `check` holds: the runtime notices a dropped connection on its own time. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let runtime: RuntimeProcess;
let url: string;

beforeAll(async () => {
  runtime = await startRuntime();
  url = runtime.url;
});

describe('a named remote subscriber', () => {
  it('gets every event, acks part, and after a reconnect without Last-Event-ID gets exactly checkpoint + 1 onwards', async () => {
    const start = (await request(`${url}/v1/events?limit=1`)).body.lastPosition as number;
    let head = await appendEvents(url, 10, 'billing-a');

    const first = new SseReader(`${url}/v1/subscribe?subscriber=billing`);
    await first.untilCount(head);
    expect(first.ids).toEqual(range(1, head));
    expect(first.messages.every((m) => m.event.position === m.id)).toBe(true);
    // Live delivery too, on the same stream.
    head = await appendEvents(url, 3, 'billing-b');
    await first.untilCount(head);
    expect(first.ids).toEqual(range(1, head));

    const acked = start + 6;
    expect(await ack(url, 'billing', { position: acked })).toMatchObject({ status: 200, body: { name: 'billing', position: acked } });
    // An older ack (a retry, or one overtaken by a later one) does not move the checkpoint back.
    expect(await ack(url, 'billing', { position: acked - 2 })).toMatchObject({ status: 200, body: { name: 'billing', position: acked } });

    expect(await listed(url, 'billing')).toMatchObject({
      kind: 'subscriber',
      status: 'connected',
      position: acked,
      lag: head - acked,
      connections: 1,
      delivered: head,
    });

    await first.close();
    await eventually(async () => (await listed(url, 'billing'))?.status === 'disconnected');
    // The log moves on while it is away.
    head = await appendEvents(url, 5, 'billing-c');

    // A new life of the subscriber: no Last-Event-ID. `from` only counts without a checkpoint.
    const second = new SseReader(`${url}/v1/subscribe?subscriber=billing&from=1`);
    await second.untilCount(head - acked);
    expect(second.ids).toEqual(range(acked + 1, head));
    // The unacked events come again as they were.
    const firstById = new Map(first.messages.map((m) => [m.id, m.event.id]));
    for (const m of second.messages) if (firstById.has(m.id)) expect(m.event.id).toBe(firstById.get(m.id));
    await second.close();

    // Last-Event-ID still wins over the checkpoint: a reconnect within one life.
    const third = new SseReader(`${url}/v1/subscribe?subscriber=billing`, { 'last-event-id': String(head - 2) });
    await third.untilCount(2);
    expect(third.ids.slice(0, 2)).toEqual([head - 1, head]);
    await third.close();
  });

  it('starts at `from` while it has no checkpoint, and at 1 without it', async () => {
    await appendEvents(url, 3, 'fresh');
    const withFrom = new SseReader(`${url}/v1/subscribe?subscriber=fresh-from&from=3`);
    await withFrom.untilCount(1);
    expect(withFrom.ids[0]).toBe(3);
    await withFrom.close();
    const plain = new SseReader(`${url}/v1/subscribe?subscriber=fresh-plain`);
    await plain.untilCount(1);
    expect(plain.ids[0]).toBe(1);
    await plain.close();
  });

  it('keeps the highest of concurrent acks sent out of order', async () => {
    const head = await appendEvents(url, 30, 'race');
    const positions = range(head - 29, head).sort(() => Math.random() - 0.5);
    const answers = await Promise.all(positions.map((position) => ack(url, 'racer', { position })));
    expect(answers.every((a) => a.status === 200 && a.body.position >= 0)).toBe(true);
    expect(await listed(url, 'racer')).toMatchObject({ position: head, status: 'disconnected' });
  });

  it('reports its lag, from its checkpoint, in thalo_subscription_lag_events', async () => {
    const head = await appendEvents(url, 4, 'lag');
    await ack(url, 'lagging', { position: head - 4 });
    const metrics = (await request(`${url}/metrics`)).body as string;
    expect(metrics).toMatch(/^thalo_subscription_lag_events\{subscription="lagging"\} 4$/m);
  });
});

describe('the checkpoint across a crash', () => {
  it('survives a SIGKILL of the runtime and a restart on the same data directory', async () => {
    const root = tempRoot();
    let crashing = await startRuntime({ root });
    const head = await appendEvents(crashing.url, 12, 'crash');
    const reader = new SseReader(`${crashing.url}/v1/subscribe?subscriber=survivor`);
    await reader.untilCount(head);
    expect((await ack(crashing.url, 'survivor', { position: 9 })).body.position).toBe(9);
    // The answer came after the checkpoint was durable: kill at once, no drain.
    expect(await crashing.stop('SIGKILL')).toBe(null);
    await reader.done;

    crashing = await startRuntime({ root });
    expect(await listed(crashing.url, 'survivor')).toMatchObject({
      kind: 'subscriber',
      status: 'disconnected',
      position: 9,
      lag: head - 9,
      connections: 0,
    });
    const resumed = new SseReader(`${crashing.url}/v1/subscribe?subscriber=survivor`);
    await resumed.untilCount(head - 9);
    expect(resumed.ids).toEqual(range(10, head));
    await resumed.close();
    await crashing.stop();
  });
});

describe('POST /v1/projections/:name/reset for a subscriber', () => {
  it('replays at once on the open stream from the position after the reset', async () => {
    const head = await appendEvents(url, 5, 'reset-live');
    const reader = new SseReader(`${url}/v1/subscribe?subscriber=replayer&from=${head - 4}`);
    await reader.untilCount(5);
    await ack(url, 'replayer', { position: head });

    const answer = await reset(url, 'replayer', { position: head - 2 });
    expect(answer).toMatchObject({
      status: 200,
      body: { name: 'replayer', kind: 'subscriber', status: 'connected', position: head - 2, lag: 2 },
    });
    await reader.untilCount(7);
    expect(reader.ids).toEqual([...range(head - 4, head), head - 1, head]);
    // The jump is announced by a comment line right before the replayed messages.
    expect(reader.log.slice(-3)).toEqual([`reset, from ${head - 1}`, `id:${head - 1}`, `id:${head}`]);
    // And it goes on live from there.
    const next = await appendEvents(url, 1, 'reset-live-next');
    await reader.untilCount(8);
    expect(reader.ids.at(-1)).toBe(next);
    await reader.close();
  });

  it("moves a disconnected subscriber's checkpoint back; without a body, to 0", async () => {
    const head = await appendEvents(url, 3, 'reset-off');
    await ack(url, 'rewinder', { position: head });
    expect((await reset(url, 'rewinder', { position: head - 3 })).body).toMatchObject({
      kind: 'subscriber',
      status: 'disconnected',
      position: head - 3,
      lag: 3,
    });
    const reader = new SseReader(`${url}/v1/subscribe?subscriber=rewinder`);
    await reader.untilCount(3);
    expect(reader.ids).toEqual(range(head - 2, head));
    await reader.close();

    expect((await reset(url, 'rewinder')).body).toMatchObject({ position: 0 });
    // An empty body with a JSON content type means the same.
    const empty = await request(`${url}/v1/projections/rewinder/reset`, { method: 'POST', headers: JSON_HEADERS, body: '' });
    expect(empty).toMatchObject({ status: 200, body: { position: 0 } });
    const again = new SseReader(`${url}/v1/subscribe?subscriber=rewinder`);
    await again.untilCount(1);
    expect(again.ids[0]).toBe(1);
    await again.close();
  });

  it('answers 404 PROJECTION_NOT_FOUND for an unknown name and 400 for a position past the head', async () => {
    const missing = await reset(url, 'nobody-here', { position: 0 });
    expect(missing).toMatchObject({ status: 404, body: { code: 'PROJECTION_NOT_FOUND' } });
    expect(missing.body.message).toContain('nobody-here');
    const head = await appendEvents(url, 1, 'reset-bad');
    await ack(url, 'resettable', { position: 1 });
    expect(await reset(url, 'resettable', { position: head + 1 })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(await reset(url, 'resettable', { position: -1 })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(await reset(url, 'resettable', { to: 1 })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(await listed(url, 'resettable')).toMatchObject({ position: 1 });
  });
});

describe('refusals', () => {
  it('refuses a bad subscriber name with 400 INVALID_ARGUMENT naming the parameter', async () => {
    for (const name of ['', ' spaced', 'with space', 'slash/name', '-leading-dash', 'ünïcode', 'x'.repeat(129)]) {
      const answer = await request(`${url}/v1/subscribe?subscriber=${encodeURIComponent(name)}`);
      expect(answer, name).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
      expect(answer.body.message).toContain('query parameter subscriber');
    }
    const twice = await request(`${url}/v1/subscribe?subscriber=a&subscriber=b`);
    expect(twice).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    // The longest valid name is fine.
    const longest = new SseReader(`${url}/v1/subscribe?subscriber=${'x'.repeat(128)}`);
    await longest.opened;
    expect(longest.status).toBe(200);
    await longest.close();
    const badAck = await ack(url, 'with space', { position: 0 });
    expect(badAck).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(badAck.body.message).toContain('path parameter name');
  });

  it('refuses a bad ack body with 400', async () => {
    for (const body of [
      {},
      { position: -1 },
      { position: 1.5 },
      { position: '3' },
      { position: null },
      { position: 1, extra: true },
      [1],
      7,
      null,
    ]) {
      expect(await ack(url, 'picky', body), JSON.stringify(body)).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await ack(url, 'picky', undefined, '{"position":')).toMatchObject({ status: 400, body: { code: 'MALFORMED_REQUEST' } });
    expect(await ack(url, 'picky', undefined, '')).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    // Nothing was stored by any of them.
    expect(await listed(url, 'picky')).toBeUndefined();
  });

  it("refuses an ack past the log's last position with 400, and stores nothing", async () => {
    const head = (await request(`${url}/v1/events?limit=1`)).body.lastPosition as number;
    const answer = await ack(url, 'ahead', { position: head + 1 });
    expect(answer).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', data: { position: head + 1, lastPosition: head } } });
    expect(await listed(url, 'ahead')).toBeUndefined();
    expect(await ack(url, 'ahead', { position: head })).toMatchObject({ status: 200, body: { position: head } });
  });
});
