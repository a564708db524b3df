/**
 * Stream reads through the chain and the sparse index (stream-index.ts): every way of reading a
 * stream gives what a filter over the global log gives, across index entries, in streams written
 * in one append or interleaved with others; and a directory written before the chain (a full
 * index, plain seqs in `heads`) reads and grows as before.
 */
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { StoredEvent } from '../../src/store/index.js';
import { openDatabases, putEvent } from '../../src/store/databases.js';
import { STREAM_INDEX_EVERY } from '../../src/store/stream-index.js';
import { event, openStore, tempDir } from './helpers.js';

const EVERY = STREAM_INDEX_EVERY;

/** What readStream must return, worked out from the stream's seqs in the global log alone. */
function expected(seqs: number[], options: { from?: number; limit?: number; backwards?: boolean }): number[] {
  const limit = options.limit ?? Infinity;
  if (options.backwards) {
    const from = options.from ?? Infinity;
    return seqs
      .filter((s) => s <= from)
      .reverse()
      .slice(0, limit);
  }
  return seqs.filter((s) => s >= (options.from ?? 1)).slice(0, limit);
}

function seqsOf(events: StoredEvent[], stream: string): number[] {
  for (const e of events) expect(e.stream).toBe(stream);
  return events.map((e) => e.seq);
}

/** Every from (1 to past the end), with no limit, limits around an index interval, both ways. */
function checkAllReads(store: EventStore, stream: string, length: number): void {
  const limits = [undefined, 1, 2, EVERY - 1, EVERY, EVERY + 1, 3 * EVERY];
  const seqs = store
    .readAll()
    .filter((e) => e.stream === stream)
    .map((e) => e.seq);
  for (let from = 1; from <= length + 2; from++) {
    for (const limit of limits) {
      for (const backwards of [false, true]) {
        const options = { from, limit, backwards };
        expect(seqsOf(store.readStream(stream, options), stream), JSON.stringify(options)).toEqual(expected(seqs, options));
      }
    }
  }
  expect(seqsOf(store.readStream(stream), stream)).toEqual(Array.from({ length }, (_, i) => i + 1));
  expect(seqsOf(store.readStream(stream, { backwards: true, limit: 3 }), stream)).toEqual(
    [length, length - 1, length - 2].filter((s) => s > 0),
  );
}

describe('stream reads through the chain and the sparse index', () => {
  it('read a stream of one long append like the log says, from every seq, with every limit, both ways', async () => {
    const store = openStore();
    const length = 3 * EVERY + 5;
    await store.append(
      'long',
      Array.from({ length }, (_, i) => event(`E${i + 1}`)),
    );
    checkAllReads(store, 'long', length);
    expect(store.streamVersion('long')).toBe(length);
  });

  it('read streams whose events are interleaved with other streams, appended one by one and in batches', async () => {
    const store = openStore();
    const streams = ['a', 'b', 'c'];
    for (let round = 0; round < 2 * EVERY + 3; round++) {
      await store.appendBatch(
        streams.map((stream, i) => ({ stream, events: Array.from({ length: 1 + ((round + i) % 3) }, () => event('E')) })),
      );
    }
    for (const stream of streams) checkAllReads(store, stream, store.streamVersion(stream));
  });

  it("chains each event to its stream's previous one", async () => {
    const store = openStore();
    await store.appendBatch([
      { stream: 'x', events: [event('1'), event('2')] },
      { stream: 'y', events: [event('1')] },
      { stream: 'x', events: [event('3')] },
    ]);
    expect(store.readAll().map((e) => [e.stream, e.seq, e.previous])).toEqual([
      ['x', 1, 0],
      ['x', 2, 1],
      ['y', 1, 0],
      ['x', 3, 2],
    ]);
  });

  it('reads and appends to a directory written before the chain (an entry per seq, a plain seq in heads)', async () => {
    const path = tempDir();
    // Format 1, written the way the store wrote it: no `previous`, every seq indexed.
    const dbs = openDatabases(path);
    const oldLength = EVERY + 7;
    await dbs.root.transaction(() => {
      for (let seq = 1; seq <= oldLength; seq++) {
        const position = 2 * seq - 1;
        for (const [stream, at] of [
          ['old', position],
          ['other', position + 1],
        ] as const) {
          putEvent(dbs.events, {
            position: at,
            stream,
            seq,
            id: `${stream}-${seq}`,
            type: 'Old',
            data: event('Old').data,
            timestamp: 1,
            metadata: {},
          });
          dbs.streams.put([stream, seq], at);
          dbs.heads.put(stream, seq);
        }
      }
    });
    await dbs.root.close();

    const store = openStore({ path });
    expect(store.streamVersion('old')).toBe(oldLength);
    expect(store.readStream('old', { limit: 2 }).map((e) => e.previous)).toEqual([undefined, undefined]);
    checkAllReads(store, 'old', oldLength);
    // A snapshot is checked against the head that `heads` holds as a plain seq.
    await store.putSnapshot('old', { seq: oldLength, state: new Uint8Array([1]) });
    await expect(store.putSnapshot('old', { seq: oldLength + 1, state: new Uint8Array([1]) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    // New appends chain on to the old events, and reads cross from the new format to the old.
    for (let i = 0; i < EVERY + 3; i++)
      await store.appendBatch([
        { stream: 'old', events: [event('New')] },
        { stream: 'other', events: [event('New')] },
      ]);
    await store.append('old', [event('New'), event('New')], { expected: oldLength + EVERY + 3 });
    const length = oldLength + EVERY + 5;
    expect(store.streamVersion('old')).toBe(length);
    checkAllReads(store, 'old', length);
    checkAllReads(store, 'other', oldLength + EVERY + 3);
    const types = store.readStream('old').map((e) => e.type);
    expect(types.slice(0, oldLength).every((t) => t === 'Old') && types.slice(oldLength).every((t) => t === 'New')).toBe(true);
  });
});
