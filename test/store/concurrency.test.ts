/**
 * Several threads of one process writing one data directory: two worker threads (each with its
 * own EventStore, `lock: false`) and the main thread append at the same time, while the main
 * thread also keeps reading the log.
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/store/index.js';
import type { LoadEvent } from './fixtures/append-load.js';
import { runLoad } from './fixtures/append-load.js';
import { startTsWorker } from './fixtures/ts-worker.js';
import { expectDenseLog, onCleanup, openStore, tempDir } from './helpers.js';

const APPENDS_PER_WRITER = 600;

function startWriter(path: string, writer: string): Worker {
  const worker = startTsWorker(new URL('./fixtures/append-worker.ts', import.meta.url), { path, writer, count: APPENDS_PER_WRITER });
  onCleanup(() => worker.terminate().then(() => undefined));
  return worker;
}

async function next(worker: Worker, type: string): Promise<void> {
  const [message] = (await once(worker, 'message')) as [{ type: string; message?: string }];
  if (message.type !== type) throw new Error(`worker sent ${message.type}, expected ${type}: ${message.message ?? ''}`);
}

/** Reads the log as it grows and checks every read is a gap-free continuation of the previous one. */
function watchLog(store: EventStore): { stop(): Promise<number> } {
  let seen = 0;
  let reads = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const events = store.readAll({ from: seen + 1 });
      events.forEach((e, i) => expect(e.position).toBe(seen + 1 + i));
      seen += events.length;
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return reads;
  })();
  return {
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

describe('concurrent writers', () => {
  it('two worker threads and the main thread append at once: the log is dense, every append there once and whole', async () => {
    const path = tempDir();
    const store = openStore({ path });
    const workers = [startWriter(path, 'w1'), startWriter(path, 'w2')];
    await Promise.all(workers.map((w) => next(w, 'ready')));

    const watcher = watchLog(store);
    const finished = workers.map((w) => next(w, 'done'));
    for (const w of workers) w.postMessage('go');
    await runLoad(store, 'main', APPENDS_PER_WRITER);
    await Promise.all(finished);
    expect(await watcher.stop()).toBeGreaterThan(1);

    await expectDenseLog(store);
    const appends = new Map<string, { positions: number[]; n: number; ks: number[] }>();
    for (const e of store.readAll()) {
      const data = unpack(e.data) as LoadEvent;
      expect(e.stream).toBe(`${data.writer}-${data.i % 5}`);
      const key = `${data.writer}/${data.i}`;
      const entry = appends.get(key) ?? { positions: [], n: data.n, ks: [] };
      entry.positions.push(e.position);
      entry.ks.push(data.k);
      appends.set(key, entry);
    }
    expect(appends.size).toBe(3 * APPENDS_PER_WRITER);
    for (const writer of ['main', 'w1', 'w2']) {
      for (let i = 0; i < APPENDS_PER_WRITER; i++) {
        const entry = appends.get(`${writer}/${i}`);
        expect(entry, `${writer}/${i}`).toBeDefined();
        // Whole, once, and its events side by side in the log, in order.
        expect(entry!.ks).toEqual(Array.from({ length: entry!.n }, (_, k) => k));
        expect(entry!.positions).toEqual(entry!.positions.map((_, k) => entry!.positions[0]! + k));
      }
    }
    // The writers really interleaved: the log is not three runs one after another.
    const writersInOrder = store.readAll().map((e) => e.stream.split('-')[0]);
    const switches = writersInOrder.filter((w, i) => i > 0 && w !== writersInOrder[i - 1]).length;
    expect(switches).toBeGreaterThan(2);
  });
});
