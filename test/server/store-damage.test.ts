/**
 * A damaged store under the runtime as a process (issue 13, item 4). One changed byte in
 * data.mdb (an `amount` from 1 to 9) used to read back silently, wrong; now every read that
 * reaches it answers `500 STORE_CORRUPTED` naming the position, and the rest of the log reads: a
 * page of the log after it, other streams, a command on another aggregate. A live subscription
 * gets the events before it and then an error naming it, instead of closing empty forever. Damaged
 * meta pages (which crashed LMDB with SIGSEGV, no log line) make the runtime exit 1 with a line
 * that names the directory and the way to list the damage.
 */
import { describe, expect, it } from 'vitest';
import { ApiClientError, ThaloClient } from '../../src/client/index.js';
import { flipAmount, garbageMetaPages, streamOf, writeMarkedLog } from '../store/damage-helpers.js';
import { execute, request, spawnRuntime, startRuntime, tempRoot } from './runtime-process.js';

const COUNT = 200;

describe('the runtime on a damaged store', () => {
  it('answers STORE_CORRUPTED naming the position where a read reaches the damage, and serves everything else', async () => {
    const root = tempRoot();
    await writeMarkedLog(root.data, COUNT);
    flipAmount(root.data, 50);
    expect(streamOf(50)).toBe('counter-c0');
    const runtime = await startRuntime({ root });
    const { url } = runtime;

    const stream = await request(`${url}/v1/aggregates/counter/c0/events`);
    expect(stream.status).toBe(500);
    expect(stream.body).toMatchObject({ code: 'STORE_CORRUPTED', data: { position: 50 } });
    expect(stream.body.message).toContain('damaged at position 50: checksum mismatch');

    const page = await request(`${url}/v1/events?from=1`);
    expect(page.status).toBe(500);
    expect(page.body).toMatchObject({ code: 'STORE_CORRUPTED', data: { position: 50 } });

    const after = await request(`${url}/v1/events?from=51&limit=10`);
    expect(after.status).toBe(200);
    expect(after.body.events.map((e: { position: number }) => e.position)).toEqual(Array.from({ length: 10 }, (_, i) => 51 + i));
    const before = await request(`${url}/v1/events?from=1&limit=49`);
    expect(before.status).toBe(200);
    expect(before.body.events).toHaveLength(49);
    const other = await request(`${url}/v1/aggregates/counter/c1/events`);
    expect(other.status).toBe(200);
    expect(other.body.events).toHaveLength(COUNT / 5);

    // A command on the damaged stream cannot rebuild its state: an error, not a wrong total.
    const command = await execute(url, 'counter', 'c0', 'Increment', { amount: 1 });
    expect(command.status).toBe(500);
    expect(command.body).toMatchObject({ code: 'STORE_CORRUPTED', data: { position: 50 } });
    const fresh = await execute(url, 'counter', 'fresh', 'Increment', { amount: 1 });
    expect(fresh.status).toBe(200);

    // SSE: the 49 events before it, then the error (the client throws it instead of reconnecting).
    const client = new ThaloClient({ url });
    const received: number[] = [];
    let failure: unknown;
    try {
      for await (const event of client.subscribe({ from: 1 })) received.push(event.position);
    } catch (error) {
      failure = error;
    }
    expect(received).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    expect(failure).toBeInstanceOf(ApiClientError);
    expect(failure).toMatchObject({ code: 'STORE_CORRUPTED', data: { position: 50 } });

    // Still serving: the store's read transaction was not left failed.
    expect((await request(`${url}/v1/events?from=51&limit=1`)).status).toBe(200);
    await runtime.stop();
  });

  it('exits 1 with a log line naming the directory and --verify when the meta pages are damaged, instead of a SIGSEGV', async () => {
    const root = tempRoot();
    await writeMarkedLog(root.data, 10);
    garbageMetaPages(root.data);
    const runtime = spawnRuntime({ root });
    const line = await runtime.waitForLog((l) => l.code === 'STORE_CORRUPTED');
    expect(line.msg).toMatch(/^cannot start: the event store in .* is damaged: its LMDB meta pages are damaged/);
    expect(line.msg).toContain(`run thalo-runtime --verify --data ${root.data}`);
    expect(line.data).toBe(root.data);
    expect(await runtime.exited).toBe(1);
    expect(runtime.child.signalCode).toBeNull();
  });
});
