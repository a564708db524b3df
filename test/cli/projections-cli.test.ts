/**
 * Remote subscribers through the client and the CLI, against `thalo-runtime` as a process (with a
 * token): `ThaloClient.subscribe({ subscriber })` with `ack` resuming in a new life from the
 * checkpoint, `thalo projections` (table and --json) and `thalo projection reset`, with their
 * exit codes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ThaloClient } from '../../src/client/index.js';
import type { ExecutedEvent } from '../../src/engine/index.js';
import { startRuntime, thalo } from '../server/runtime-process.js';
import type { RuntimeProcess } from '../server/runtime-process.js';

const TOKEN = 'projections-token';
let runtime: RuntimeProcess;
let client: ThaloClient;
let cli: (args: string[]) => ReturnType<typeof thalo>;

beforeAll(async () => {
  runtime = await startRuntime({ env: { THALO_TOKEN: TOKEN } });
  client = new ThaloClient({ url: runtime.url, token: TOKEN });
  cli = (args) => thalo([...args, '--url', runtime.url], { THALO_TOKEN: TOKEN });
});

/** Read `count` events as subscriber `name` in one life of it (one `subscribe` call), then stop. */
async function readAs(name: string, count: number, from?: number): Promise<ExecutedEvent[]> {
  const abort = new AbortController();
  const events: ExecutedEvent[] = [];
  for await (const event of client.subscribe({ subscriber: name, from, signal: abort.signal })) {
    events.push(event);
    if (events.length === count) abort.abort();
  }
  return events;
}

async function increments(count: number, id: string): Promise<number> {
  let position = 0;
  for (let i = 0; i < count; i++) position = (await client.execute('counter', id, 'Increment', { amount: 1 })).events[0]!.position;
  return position;
}

describe('thalo projections', () => {
  it('says so when there is nothing to list', async () => {
    const text = await cli(['projections']);
    expect(text).toMatchObject({ code: 0, stdout: 'no projections, relays or subscribers\n' });
    expect(JSON.parse((await cli(['projections', '--json'])).stdout)).toEqual({ projections: [] });
  });

  it('lists a remote subscriber with its acked position and lag, as a table and as JSON', async () => {
    const head = await increments(5, 'listed');
    const events = await readAs('reporting', 5);
    expect(events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
    expect(await client.ack('reporting', 3)).toEqual({ name: 'reporting', position: 3 });
    // The runtime notices the dropped stream on its own time; the table should show it gone.
    while ((await client.projections()).projections.find((p) => p.name === 'reporting')?.status !== 'disconnected')
      await new Promise((r) => setTimeout(r, 20));

    const text = await cli(['projections']);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'KIND', 'STATUS', 'POSITION', 'LAG']);
    const row = lines.find((l) => l.startsWith('reporting '));
    expect(row?.split(/\s+/)).toEqual(['reporting', 'subscriber', 'disconnected', '3', String(head - 3)]);

    const json = JSON.parse((await cli(['projections', '--json'])).stdout);
    expect(json.projections).toContainEqual(
      expect.objectContaining({ name: 'reporting', kind: 'subscriber', status: 'disconnected', position: 3, lag: head - 3 }),
    );
    expect((await client.projections()).projections).toEqual(json.projections);
  });
});

describe('the token', () => {
  it('is required by the subscriber and projection routes too', async () => {
    const anonymous = new ThaloClient({ url: runtime.url });
    for (const attempt of [() => anonymous.ack('anyone', 0), () => anonymous.projections(), () => anonymous.resetProjection('anyone')]) {
      await expect(attempt()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    const subscribe = anonymous.subscribe({ subscriber: 'anyone', reconnectMs: -1 });
    await expect(subscribe.next()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect((await client.projections()).projections.find((p) => p.name === 'anyone')).toBeUndefined();
  });
});

describe('a remote subscriber through ThaloClient', () => {
  it('starts each new life right after its last ack: unacked events come again, none is skipped', async () => {
    const head = await increments(4, 'lives');
    const first = await readAs('worker', head);
    expect(first.map((e) => e.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    await client.ack('worker', head - 2);
    // A new life (after a crash of the consumer): `from` is for a subscriber without a checkpoint.
    const second = await readAs('worker', 2, 1);
    expect(second.map((e) => e.id)).toEqual(first.slice(-2).map((e) => e.id));
    // An older ack answers the checkpoint as it is.
    expect(await client.ack('worker', 1)).toEqual({ name: 'worker', position: head - 2 });
  });
});

describe('thalo projection reset', () => {
  it('moves the checkpoint, after which the subscriber replays from the next position', async () => {
    const head = await increments(3, 'rewind');
    await client.ack('rewound', head);
    const text = await cli(['projection', 'reset', 'rewound', '--to', String(head - 2)]);
    expect(text).toMatchObject({
      code: 0,
      stdout: `Reset subscriber rewound to position ${head - 2}: it replays from ${head - 1} (lag 2)\n`,
    });
    expect((await readAs('rewound', 2)).map((e) => e.position)).toEqual([head - 1, head]);

    const json = await cli(['projection', 'reset', 'rewound', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'rewound', kind: 'subscriber', position: 0, lag: head });
    expect((await readAs('rewound', 1))[0]!.position).toBe(1);
    expect(await client.resetProjection('rewound', 1)).toMatchObject({ name: 'rewound', position: 1 });
  });

  it('exits 1 for an unknown name or a position past the head, 2 on usage errors', async () => {
    const unknown = await cli(['projection', 'reset', 'no-such-thing']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('PROJECTION_NOT_FOUND');
    const unknownJson = await cli(['projection', 'reset', 'no-such-thing', '--json']);
    expect(unknownJson.code).toBe(1);
    expect(JSON.parse(unknownJson.stdout).error).toMatchObject({ status: 404, code: 'PROJECTION_NOT_FOUND' });
    await client.ack('bounded', 0);
    const past = await cli(['projection', 'reset', 'bounded', '--to', '999999']);
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('INVALID_ARGUMENT');

    expect((await cli(['projection', 'reset', 'bounded', '--to', 'x'])).code).toBe(2);
    expect((await cli(['projection', 'reset', 'bounded', '--to', '-1'])).code).toBe(2);
    expect((await cli(['projection', 'reset'])).code).toBe(2);
    expect((await cli(['projection'])).code).toBe(2);
  });
});

describe('thalo subscriber delete', () => {
  it('forgets a subscriber (text and --json), and exits 1 for an unknown name and 2 on usage errors', async () => {
    await increments(1, 'forget');
    await client.ack('forgotten', 1);
    const text = await cli(['subscriber', 'delete', 'forgotten']);
    expect(text).toMatchObject({ code: 0, stdout: 'Deleted subscriber forgotten: its streams ended and its checkpoint is removed\n' });
    expect((await client.projections()).projections.find((p) => p.name === 'forgotten')).toBeUndefined();

    await client.ack('forgotten-too', 1);
    const json = await cli(['subscriber', 'delete', 'forgotten-too', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'forgotten-too', deleted: true });
    await expect(client.deleteSubscriber('forgotten-too')).rejects.toMatchObject({ status: 404, code: 'SUBSCRIBER_NOT_FOUND' });

    const unknown = await cli(['subscriber', 'delete', 'forgotten']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('SUBSCRIBER_NOT_FOUND');
    expect((await cli(['subscriber', 'delete'])).code).toBe(2);
    expect((await cli(['subscriber'])).code).toBe(2);
  });
});
