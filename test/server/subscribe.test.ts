/**
 * The live subscription (Server-Sent Events) against the runtime as a process: catch-up then live
 * with commands flowing the whole time, a disconnect, and a resume with Last-Event-ID that
 * neither misses nor repeats an event; and the CLI's client riding out a runtime restart.
 */
import { describe, expect, it } from 'vitest';
import { ThaloClient } from '../../src/client/index.js';
import { request, startRuntime, tempRoot } from './runtime-process.js';
import type { RuntimeProcess } from './runtime-process.js';

interface Received {
  id: number;
  event: { position: number; id: string };
}

/** Read SSE messages from `url` until `enough` says so, then drop the connection. */
async function readSse(url: string, headers: Record<string, string>, enough: (received: Received[]) => boolean): Promise<Received[]> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const received: Received[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (id && data) received.push({ id: Number(id[1]), event: JSON.parse(data[1]!) });
      }
      if (enough(received)) break;
    }
  } finally {
    abort.abort();
  }
  return received;
}

/** Commands in batches of 20 until stopped, like a steady stream of clients. */
function writeContinuously(runtime: RuntimeProcess): { stop: () => Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    for (let round = 0; !stopped; round++) {
      const commands = Array.from({ length: 20 }, (_, i) => ({
        aggregate: 'counter',
        id: `sse-${i}`,
        command: 'Increment',
        payload: { amount: round + 1 },
      }));
      const { status } = await request(`${runtime.url}/v1/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ commands }),
      });
      expect(status).toBe(200);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const head = async (url: string) => (await request(`${url}/v1/events?limit=1`)).body.lastPosition as number;

describe('GET /v1/subscribe', () => {
  it('resumes after a disconnect with Last-Event-ID, without missing or repeating an event', async () => {
    const runtime = await startRuntime();
    const writer = writeContinuously(runtime);
    while ((await head(runtime.url)) < 200) await new Promise((r) => setTimeout(r, 10));

    // Catch up from the start and go live, then drop the connection mid-flow.
    const first = await readSse(`${runtime.url}/v1/subscribe?from=1`, {}, (r) => r.length >= 300);
    const lastId = first.at(-1)!.id;
    // While the client is away, the log moves on.
    while ((await head(runtime.url)) < lastId + 100) await new Promise((r) => setTimeout(r, 10));
    // Reconnect as EventSource does; `from` is ignored in favour of Last-Event-ID.
    let final = Infinity;
    const resumed = readSse(
      `${runtime.url}/v1/subscribe?from=1`,
      { 'last-event-id': String(lastId) },
      (r) => r.length > 0 && r.at(-1)!.id >= final,
    );
    await new Promise((r) => setTimeout(r, 100));
    await writer.stop();
    final = await head(runtime.url);
    // A commit notice after `final` is not coming; one more command wakes the reader if it waits.
    await request(`${runtime.url}/v1/aggregates/counter/nudge/commands/Increment`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"amount":1}',
    });
    const second = await resumed;

    const all = [...first, ...second].filter((r) => r.id <= final);
    expect(all.map((r) => r.id)).toEqual(Array.from({ length: final }, (_, i) => i + 1));
    expect(all.every((r) => r.event.position === r.id)).toBe(true);
    expect(new Set(all.map((r) => r.event.id)).size).toBe(final);
    expect(second[0]!.id).toBe(lastId + 1);
    // The same events as the log holds.
    const log = (await request(`${runtime.url}/v1/events?limit=10000`)).body.events as { id: string }[];
    expect(all.map((r) => r.event.id)).toEqual(log.slice(0, final).map((e) => e.id));
    await runtime.stop();
  });

  it('the CLI client resumes across a runtime restart on the same port', async () => {
    const root = tempRoot();
    let runtime = await startRuntime({ root });
    const port = new URL(runtime.url).port;
    const client = new ThaloClient({ url: runtime.url });
    const abort = new AbortController();
    const positions: number[] = [];
    let resolveCount: (() => void) | undefined;
    let want = 0;
    const reached = (n: number) =>
      new Promise<void>((r) => {
        want = n;
        resolveCount = r;
        if (positions.length >= n) r();
      });
    const reading = (async () => {
      for await (const event of client.subscribe({ from: 1, signal: abort.signal, reconnectMs: 50 })) {
        positions.push(event.position);
        if (positions.length >= want) resolveCount?.();
      }
    })();
    for (let i = 0; i < 5; i++) await client.execute('counter', 'restart', 'Increment', { amount: 1 });
    await reached(5);
    await runtime.stop();
    runtime = await startRuntime({ root, args: ['--port', port] });
    for (let i = 0; i < 5; i++) await client.execute('counter', 'restart', 'Increment', { amount: 1 });
    await reached(10);
    abort.abort();
    await reading;
    expect(positions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await runtime.stop();
  });
});
