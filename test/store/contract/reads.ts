/**
 * Reads: a stream forwards and backwards, the global log, with every from and limit, bounded by
 * bytes; the last position and a stream's version.
 */
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/store/index.js';
import { event, expectCode, sized, typesOf } from './support.js';
import type { ContractContext, StoreUnderTest } from './support.js';

/** Limits around the small numbers and around powers of two, where a store may keep its pages. */
const LIMITS = [undefined, 0, 1, 2, 3, 7, 31, 32, 33, 64];

/** What readStream must return, worked out from the stream's seqs alone. */
function expectedSeqs(seqs: number[], options: { from?: number; limit?: number; backwards?: boolean }): number[] {
  const limit = options.limit ?? Infinity;
  if (options.backwards)
    return seqs
      .filter((s) => s <= (options.from ?? Infinity))
      .reverse()
      .slice(0, limit);
  return seqs.filter((s) => s >= (options.from ?? 1)).slice(0, limit);
}

function seqsOf(events: StoredEvent[], stream: string): number[] {
  for (const e of events) expect(e.stream).toBe(stream);
  return events.map((e) => e.seq);
}

export function describeReads({ open }: ContractContext): void {
  describe('reads', () => {
    async function storeWithStream(): Promise<StoreUnderTest> {
      const store = await open();
      for (let i = 1; i <= 5; i++) await store.append(i % 2 ? 's' : 'other', [event(`${i}`)]);
      await store.append('s', [event('6'), event('7')]);
      return store; // s: 1 3 5 6 7 (seq 1..5), other: 2 4
    }

    it('readStream reads forwards and backwards, from a seq, with a limit', async () => {
      const store = await storeWithStream();
      const types = async (options = {}): Promise<string[]> => typesOf(await store.readStream('s', options));
      expect(await types()).toEqual(['1', '3', '5', '6', '7']);
      expect((await store.readStream('s')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(await types({ from: 3 })).toEqual(['5', '6', '7']);
      expect(await types({ from: 2, limit: 2 })).toEqual(['3', '5']);
      expect(await types({ backwards: true })).toEqual(['7', '6', '5', '3', '1']);
      expect(await types({ backwards: true, from: 3, limit: 2 })).toEqual(['5', '3']);
      expect(await types({ from: 9 })).toEqual([]);
      expect(await types({ limit: 0 })).toEqual([]);
      expect(await store.readStream('unknown')).toEqual([]);
      expect(await store.readStream('unknown', { backwards: true })).toEqual([]);
      await expectCode(store.readStream('s', { from: 0 }), 'INVALID_ARGUMENT');
      await expectCode(store.readStream('s', { limit: -1 }), 'INVALID_ARGUMENT');
      await expectCode(store.readStream('s', { backwards: 'yes' as never }), 'INVALID_ARGUMENT');
    });

    it('readAll reads the global log from a position, with a limit; lastPosition and streamVersion', async () => {
      const store = await storeWithStream();
      expect(typesOf(await store.readAll())).toEqual(['1', '2', '3', '4', '5', '6', '7']);
      expect((await store.readAll({ from: 4, limit: 2 })).map((e) => e.position)).toEqual([4, 5]);
      expect(await store.readAll({ from: 8 })).toEqual([]);
      expect(await store.readAll({ limit: 0 })).toEqual([]);
      expect(await store.lastPosition()).toBe(7);
      expect(await store.streamVersion('s')).toBe(5);
      expect(await store.streamVersion('other')).toBe(2);
      expect(await store.streamVersion('unknown')).toBe(0);
      const error = await expectCode(store.readAll({ from: -3 }), 'INVALID_ARGUMENT');
      expect(error.message).toContain('options.from');
      await expectCode(store.readAll({ limit: 1.5 }), 'INVALID_ARGUMENT');
    });

    it('an empty store reads as empty', async () => {
      const store = await open();
      expect(await store.readAll()).toEqual([]);
      expect(await store.lastPosition()).toBe(0);
    });

    it('readStream and readAll agree with each other from every from, with every limit, both ways', async () => {
      const store = await open();
      // Streams interleaved in the log, written one by one and in batches of several events.
      for (let round = 0; round < 24; round++) {
        await store.appendBatch(
          ['a', 'b', 'c'].map((stream, i) => ({ stream, events: Array.from({ length: 1 + ((round + i) % 3) }, () => event('E')) })),
        );
      }
      const log = await store.readAll();
      for (let from = 1; from <= log.length + 2; from++) {
        for (const limit of LIMITS) {
          const expected = log.slice(from - 1, limit === undefined ? undefined : from - 1 + limit).map((e) => e.position);
          expect(
            (await store.readAll({ from, limit })).map((e) => e.position),
            JSON.stringify({ from, limit }),
          ).toEqual(expected);
        }
      }
      for (const stream of ['a', 'b', 'c']) {
        const seqs = log.filter((e) => e.stream === stream).map((e) => e.seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        for (let from = 1; from <= seqs.length + 2; from++) {
          for (const limit of LIMITS) {
            for (const backwards of [false, true]) {
              const options = { from, limit, backwards };
              expect(seqsOf(await store.readStream(stream, options), stream), `${stream} ${JSON.stringify(options)}`).toEqual(
                expectedSeqs(seqs, options),
              );
            }
          }
        }
        expect(seqsOf(await store.readStream(stream, { backwards: true, limit: 3 }), stream)).toEqual([
          seqs.length,
          seqs.length - 1,
          seqs.length - 2,
        ]);
        // The events a stream read returns are the log's, field for field.
        expect(await store.readStream(stream)).toEqual(log.filter((e) => e.stream === stream));
      }
    });
  });

  describe('reads bounded by bytes', () => {
    it('readAll returns no more events than hold maxBytes, but always one', async () => {
      const store = await open();
      for (let i = 0; i < 10; i++) await store.append(`s${i}`, [sized(100)]);
      expect((await store.readAll({ maxBytes: 450 })).map((e) => e.position)).toEqual([1, 2, 3, 4]);
      expect((await store.readAll({ from: 5, maxBytes: 400 })).map((e) => e.position)).toEqual([5, 6, 7, 8]);
      expect((await store.readAll({ from: 9, maxBytes: 1 })).map((e) => e.position)).toEqual([9]);
      expect(await store.readAll({ limit: 2, maxBytes: 10_000 })).toHaveLength(2);
      await expectCode(store.readAll({ maxBytes: 0 }), 'INVALID_ARGUMENT');
    });

    it('readStream returns no more events than hold maxBytes, but always one, forwards and backwards', async () => {
      const store = await open();
      for (let i = 0; i < 100; i++) await store.append('s', [sized(10)]);
      const seqs = async (options: object): Promise<number[]> => (await store.readStream('s', options)).map((e) => e.seq);
      expect(await seqs({ maxBytes: 455 })).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
      expect(await seqs({ from: 30, maxBytes: 100 })).toEqual(Array.from({ length: 10 }, (_, i) => i + 30));
      expect(await seqs({ backwards: true, maxBytes: 35 })).toEqual([100, 99, 98]);
      expect(await seqs({ from: 5, backwards: true, maxBytes: 1 })).toEqual([5]);
      expect(await seqs({ from: 90, limit: 3, maxBytes: 1000 })).toEqual([90, 91, 92]);
      await expectCode(store.readStream('s', { maxBytes: -1 }), 'INVALID_ARGUMENT');
    });
  });
}
