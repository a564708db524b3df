/**
 * Heads in two databases (stream-index.ts, `foldRecentHeads`): every append writes its stream's
 * head to `recent-heads`, heads written more than RECENT_HEADS_WINDOW positions before the log's
 * end fold into `heads`, and every read (a version, an expected version, the events, the list of
 * streams, `--verify`) sees a stream's newest head wherever it is. A store written before
 * `recent-heads` existed (every head in `heads`) reads, verifies and grows as before.
 */
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { StreamEntry } from '../../src/store/index.js';
import { openDatabases } from '../../src/store/databases.js';
import type { HeadRecord } from '../../src/store/databases.js';
import { RECENT_HEADS_WINDOW } from '../../src/store/stream-index.js';
import { verifyStore } from '../../src/store/verify.js';
import { event, openStore, tempDir } from './helpers.js';

/** Streams rewritten all along, so their heads never leave `recent-heads`. */
const BUSY = 3_000;

/** Appends `count` events round-robin over the BUSY streams `busy-0` to `busy-2999`, in commits of 4,000. */
async function appendBusy(store: EventStore, count: number): Promise<void> {
  for (let done = 0; done < count; done += 4_000) {
    const requests = Array.from({ length: Math.min(4_000, count - done) }, (_, i) => ({
      stream: `busy-${(done + i) % BUSY}`,
      events: [event('Busy')],
    }));
    for (const outcome of await store.appendBatch(requests)) expect(outcome.ok).toBe(true);
  }
}

/** Every stream of the store, a page of `limit` at a time. */
async function listAll(store: EventStore, limit: number): Promise<StreamEntry[]> {
  const all: StreamEntry[] = [];
  for (;;) {
    const page = await store.listStreams({ after: all.at(-1)?.stream, limit });
    all.push(...page);
    if (page.length < limit) return all;
  }
}

/** The raw heads of `stream` in both databases, read from a read-only handle on the closed store. */
async function rawHeads(path: string, streams: string[]): Promise<Record<string, { heads?: unknown; recent?: HeadRecord }>> {
  const dbs = openDatabases(path, { readOnly: true });
  try {
    return Object.fromEntries(streams.map((s) => [s, { heads: dbs.heads.get(s), recent: dbs.recentHeads.get(s) }]));
  } finally {
    await dbs.root.close();
  }
}

describe('heads in two databases', () => {
  it('folds heads older than the window into heads; versions, reads, expected versions and lists see the newest', async () => {
    const path = tempDir();
    let store = EventStore.open({ path, durability: 'relaxed' });
    // Written first and then left alone while the log grows past the window: folded. The two
    // names differ where UTF-16 and UTF-8 sort differently (U+FFFF before U+10000 in UTF-8 only).
    await store.append('early', [event('A')]);
    await store.append('twice', [event('A')]);
    await store.append('u\u{10000}', [event('A')]);
    await appendBusy(store, RECENT_HEADS_WINDOW + 8_000);
    // Written again after its head was folded: its newest head is in recent-heads, an old one in heads.
    await store.append('twice', [event('B')], { expected: 1 });
    await store.append('u\uFFFF', [event('A')]);
    await store.close();

    const raw = await rawHeads(path, ['early', 'twice', 'u\u{10000}', 'u\uFFFF', 'busy-0']);
    expect(raw['early']).toEqual({ heads: [1, 1], recent: undefined });
    expect(raw['twice']!.heads).toEqual([1, 2]);
    expect(raw['twice']!.recent?.[0]).toBe(2);
    expect(raw['u\u{10000}']).toEqual({ heads: [1, 3], recent: undefined });
    expect(raw['u\uFFFF']!.heads).toBeUndefined();
    expect(raw['busy-0']!.heads).toBeUndefined();
    expect(raw['busy-0']!.recent?.[0]).toBeGreaterThan(1);

    store = openStore({ path });
    expect(store.streamVersion('early')).toBe(1);
    expect(store.streamVersion('twice')).toBe(2);
    expect(store.readStream('twice').map((e) => e.type)).toEqual(['A', 'B']);
    expect(store.readStream('twice', { backwards: true, limit: 1 }).map((e) => e.seq)).toEqual([2]);
    // Expected versions are checked against the newest head, not the folded one.
    await expect(store.append('twice', [event('C')], { expected: 1 })).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION' });
    await store.append('twice', [event('C')], { expected: 2 });
    await store.append('early', [event('B')], { expected: 1 });
    expect(store.readStream('early').map((e) => e.seq)).toEqual([1, 2]);

    // Each stream once, with its newest version, in the databases' order, whatever the page size.
    const all = await listAll(store, 10_000);
    expect(all).toHaveLength(BUSY + 4);
    expect(new Set(all.map((s) => s.stream)).size).toBe(all.length);
    expect(all.find((s) => s.stream === 'twice')?.version).toBe(3);
    expect(all.find((s) => s.stream === 'early')?.version).toBe(2);
    expect(await listAll(store, 7)).toEqual(all);
    expect(await store.listStreams({ prefix: 'u', limit: 10 })).toEqual([
      { stream: 'u\uFFFF', version: 1 },
      { stream: 'u\u{10000}', version: 1 },
    ]);
    expect(await store.listStreams({ prefix: 'u', after: 'u\uFFFF', limit: 10 })).toEqual([{ stream: 'u\u{10000}', version: 1 }]);
    const busy = await store.listStreams({ prefix: 'busy-', limit: BUSY });
    expect(busy.reduce((sum, s) => sum + s.version, 0)).toBe(RECENT_HEADS_WINDOW + 8_000);
    await store.close();

    const report = verifyStore(path);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('keeps recent-heads near the window when every append is to a stream of its own', async () => {
    const path = tempDir();
    const store = EventStore.open({ path, durability: 'relaxed' });
    const total = 3 * RECENT_HEADS_WINDOW;
    for (let done = 0; done < total; done += 4_000) {
      const requests = Array.from({ length: Math.min(4_000, total - done) }, (_, i) => ({ stream: `s-${done + i}`, events: [event('A')] }));
      for (const outcome of await store.appendBatch(requests)) expect(outcome.ok).toBe(true);
    }
    await store.close();
    const dbs = openDatabases(path, { readOnly: true });
    try {
      const recent = (dbs.recentHeads.getStats() as { entryCount: number }).entryCount;
      const folded = (dbs.heads.getStats() as { entryCount: number }).entryCount;
      expect(recent + folded).toBe(total);
      // At most about twice the window (see foldRecentHeads), so most of the log's streams are folded.
      expect(recent).toBeLessThanOrEqual(2 * RECENT_HEADS_WINDOW + 4_000);
      expect(folded).toBeGreaterThanOrEqual(total - 2 * RECENT_HEADS_WINDOW - 4_000);
    } finally {
      await dbs.root.close();
    }
  });

  it('--verify checks a head where reads find it: a stale one in heads under a newer one is fine, a wrong newest one is not', async () => {
    const path = tempDir();
    const store = EventStore.open({ path });
    await store.append('a', [event('A'), event('A')]);
    await store.close();
    const tamper = async (db: 'heads' | 'recent-heads', head: HeadRecord): Promise<void> => {
      const root = open({ path, maxDbs: 12 });
      await root.openDB<HeadRecord, string>(db, { encoding: 'ordered-binary' }).put('a', head);
      await root.close();
    };
    await tamper('heads', [1, 1]);
    expect(verifyStore(path).problems).toEqual([]);
    await tamper('recent-heads', [1, 1]);
    expect(verifyStore(path).problems).toEqual([
      'stream "a": its head says seq 1 at position 1, but its last event is seq 2 at position 2',
    ]);
  });

  it('reads, verifies and grows a store written before recent-heads existed (every head in heads)', async () => {
    const path = tempDir();
    let store = EventStore.open({ path });
    await store.append('a', [event('A'), event('A')]);
    await store.append('b', [event('A')]);
    await store.close();
    // What an earlier version left: the heads in `heads`, and no `recent-heads` database at all.
    const root = open({ path, maxDbs: 12 });
    const heads = root.openDB<HeadRecord, string>('heads', { encoding: 'ordered-binary' });
    const recent = root.openDB<HeadRecord, string>('recent-heads', { encoding: 'ordered-binary' });
    await root.transaction(() => {
      for (const { key, value } of recent.getRange({})) void heads.put(key, value);
    });
    await recent.drop();
    await root.close();

    // Read-only (`--verify`), the missing database reads as empty.
    const report = verifyStore(path);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);

    store = openStore({ path });
    expect(store.streamVersion('a')).toBe(2);
    expect(await store.listStreams({ limit: 10 })).toEqual([
      { stream: 'a', version: 2 },
      { stream: 'b', version: 1 },
    ]);
    await store.append('a', [event('B')], { expected: 2 });
    expect(store.readStream('a').map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await store.listStreams({ limit: 10 })).toEqual([
      { stream: 'a', version: 3 },
      { stream: 'b', version: 1 },
    ]);
  });
});
