/**
 * Issue 13, item 9, at the store's own API: limits on what one append may write, refused before
 * anything is written, and reads bounded by bytes as well as by count.
 */
import { describe, expect, it } from 'vitest';
import { event, expectCode, openStore } from './helpers.js';

const bytes = (size: number) => ({ type: 'Padded', data: new Uint8Array(size).fill(0xc0) });

describe('EventStore: append limits', () => {
  it('refuses an append of more events than maxEventsPerAppend with TOO_MANY_EVENTS, appending nothing', async () => {
    const store = openStore({ maxEventsPerAppend: 3 });
    const error = await expectCode(store.append('s', [event('A'), event('A'), event('A'), event('A')]), 'TOO_MANY_EVENTS');
    expect(error.data).toEqual({ stream: 's', count: 4, limit: 3 });
    await store.append('s', [event('A'), event('A'), event('A')]);
    expect(store.lastPosition()).toBe(3);
  });

  it('refuses an event over maxEventBytes with EVENT_TOO_LARGE, and only that request of a batch', async () => {
    const store = openStore({ maxEventBytes: 100 });
    const outcomes = await store.appendBatch([
      { stream: 'a', events: [bytes(100)] },
      { stream: 'b', events: [bytes(10), bytes(101)] },
      { stream: 'c', events: [bytes(1)] },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(!outcomes[1]!.ok && outcomes[1]!.error.code).toBe('EVENT_TOO_LARGE');
    expect(store.readStream('b')).toEqual([]);
  });

  it('refuses metadata over maxMetadataBytes with METADATA_TOO_LARGE', async () => {
    const store = openStore({ maxMetadataBytes: 32 });
    await store.append('s', [{ ...event('A'), metadata: { headers: { user: 'ann' } } }]);
    const error = await expectCode(store.append('s', [{ ...event('A'), metadata: { headers: { note: 'x'.repeat(40) } } }]), 'METADATA_TOO_LARGE');
    expect(error.message).toContain('the limit is 32');
    expect(store.streamVersion('s')).toBe(1);
  });

  it('has defaults: 1,000 events, 1 MiB of data, 16 KiB of metadata', async () => {
    const store = openStore();
    await expectCode(store.append('s', Array.from({ length: 1001 }, () => event('A'))), 'TOO_MANY_EVENTS');
    await expectCode(store.append('s', [bytes(1024 * 1024 + 1)]), 'EVENT_TOO_LARGE');
    await expectCode(store.append('s', [{ ...event('A'), metadata: { correlationId: 'c'.repeat(16 * 1024 + 1) } }]), 'METADATA_TOO_LARGE');
    expect(store.lastPosition()).toBe(0);
  });
});

describe('EventStore: reads bounded by bytes', () => {
  it('readAll returns no more events than hold maxBytes, but always one', async () => {
    const store = openStore();
    for (let i = 0; i < 10; i++) await store.append(`s${i}`, [bytes(100)]);
    expect(store.readAll({ maxBytes: 450 }).map((e) => e.position)).toEqual([1, 2, 3, 4]);
    expect(store.readAll({ from: 5, maxBytes: 400 }).map((e) => e.position)).toEqual([5, 6, 7, 8]);
    expect(store.readAll({ from: 9, maxBytes: 1 }).map((e) => e.position)).toEqual([9]);
    expect(store.readAll({ limit: 2, maxBytes: 10_000 })).toHaveLength(2);
  });

  it('readStream forwards and backwards, across index chunks', async () => {
    const store = openStore();
    for (let i = 0; i < 100; i++) await store.append('s', [bytes(10)]);
    expect(store.readStream('s', { maxBytes: 455 }).map((e) => e.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(store.readStream('s', { from: 30, maxBytes: 100 }).map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 30));
    expect(store.readStream('s', { backwards: true, maxBytes: 35 }).map((e) => e.seq)).toEqual([100, 99, 98]);
    expect(store.readStream('s', { from: 5, backwards: true, maxBytes: 1 }).map((e) => e.seq)).toEqual([5]);
    expect(store.readStream('s', { from: 90, limit: 3, maxBytes: 1000 }).map((e) => e.seq)).toEqual([90, 91, 92]);
  });
});
