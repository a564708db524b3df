/**
 * Crash safety: a child process appends in a loop and acknowledges every append once it
 * resolved; the test SIGKILLs it at a random moment (after a random number of acks, with appends
 * still in flight), reopens the directory (taking over the dead child's lock) and checks that
 * every acknowledged append is there, nothing is partial and positions are dense. Several rounds
 * on the same directory, so each round also starts from a store that was killed.
 */
import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { LoadEvent } from './fixtures/append-load.js';
import { startChild } from './fixtures/child-process.js';
import { expectDenseLog, onCleanup, tempDir } from './helpers.js';

const ROUNDS = 6;

describe('crash safety', () => {
  it('keeps every acknowledged append, whole, across SIGKILLs', async () => {
    const path = tempDir();
    for (let round = 0; round < ROUNDS; round++) {
      const writer = `r${round}`;
      const child = startChild('crash-writer.ts', [path, writer]);
      onCleanup(() => child.kill());
      expect((await child.lines.next()).value).toBe('ready');
      const killAfter = 1 + Math.floor(Math.random() * 400);
      const acked = new Set<number>();
      for await (const line of child.lines) {
        acked.add(Number(line));
        if (acked.size >= killAfter) break;
      }
      await child.kill();
      expect(acked.size).toBe(killAfter);

      const store = EventStore.open({ path });
      try {
        await expectDenseLog(store);
        const found = new Map<string, number[]>();
        for (const e of store.readAll()) {
          const data = unpack(e.data) as LoadEvent;
          const key = `${data.writer}/${data.i}`;
          const ks = found.get(key) ?? [];
          ks.push(data.k);
          found.set(key, ks);
          if (data.k === data.n - 1) expect(ks, `append ${key} is whole`).toEqual(Array.from({ length: data.n }, (_, k) => k));
        }
        for (const [key, ks] of found) {
          const n = 1 + (Number(key.split('/')[1]) % 3);
          expect(ks, `append ${key} is whole, once`).toEqual(Array.from({ length: n }, (_, k) => k));
        }
        for (const i of acked) expect(found.has(`${writer}/${i}`), `acknowledged append ${writer}/${i}`).toBe(true);
      } finally {
        await store.close();
      }
    }
  });
});
