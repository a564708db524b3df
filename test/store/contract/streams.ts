/**
 * Listing streams: by name prefix, page after page, with each stream's version, and what a
 * listing refuses.
 */
import { describe, expect, it } from 'vitest';
import { event, expectCode } from './support.js';
import type { ContractContext, StoreUnderTest } from './support.js';

/** Streams appended out of name order, some with more than one event, one with a non-ASCII name. */
const STREAMS: [string, number][] = [
  ['todos-b', 1],
  ['counter-b', 2],
  ['counter-a', 3],
  ['counter-ab', 1],
  ['countertop-1', 1],
  ['counter-é', 1],
  ['bank-1', 1],
];

async function storeWithStreams(open: ContractContext['open']): Promise<StoreUnderTest> {
  const store = await open();
  for (const [stream, count] of STREAMS) {
    for (let i = 0; i < count; i++) await store.append(stream, [event(`E${i}`)]);
  }
  return store;
}

/** Names in the order of their UTF-8 bytes, as the contract lists them. */
function byteOrder(names: string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export function describeStreamList({ open, reopen }: ContractContext): void {
  describe('listStreams', () => {
    it('lists every stream in name order with its version', async () => {
      const store = await storeWithStreams(open);
      const all = await store.listStreams({ limit: 100 });
      expect(all.map((s) => s.stream)).toEqual(byteOrder(STREAMS.map(([name]) => name)));
      for (const { stream, version } of all) expect(version, stream).toBe(new Map(STREAMS).get(stream));
      expect(await store.listStreams({ limit: 0 })).toEqual([]);
      expect(await (await open()).listStreams({ limit: 10 })).toEqual([]);
    });

    it('keeps to a prefix: "counter-" is not "countertop-"', async () => {
      const store = await storeWithStreams(open);
      const names = async (prefix: string): Promise<string[]> => (await store.listStreams({ prefix, limit: 100 })).map((s) => s.stream);
      expect(await names('counter-')).toEqual(byteOrder(['counter-a', 'counter-ab', 'counter-b', 'counter-é']));
      expect(await names('counter-a')).toEqual(['counter-a', 'counter-ab']);
      expect(await names('counter')).toEqual(byteOrder(['counter-a', 'counter-ab', 'counter-b', 'counter-é', 'countertop-1']));
      expect(await names('zzz')).toEqual([]);
      expect(await names('')).toHaveLength(STREAMS.length);
    });

    it('pages with after: each page starts after the last name of the one before, none twice, none missed', async () => {
      const store = await storeWithStreams(open);
      for (const prefix of ['', 'counter-']) {
        for (const limit of [1, 2, 3]) {
          const seen: string[] = [];
          let after: string | undefined;
          for (let pages = 0; pages < 20; pages++) {
            const page = await store.listStreams({ prefix, after, limit });
            expect(page.length).toBeLessThanOrEqual(limit);
            if (page.length === 0) break;
            seen.push(...page.map((s) => s.stream));
            after = page.at(-1)!.stream;
          }
          expect(seen, `prefix ${prefix}, limit ${limit}`).toEqual((await store.listStreams({ prefix, limit: 100 })).map((s) => s.stream));
        }
      }
      // An `after` that is no stream, or that sorts before the prefix, works the same way.
      expect((await store.listStreams({ prefix: 'counter-', after: 'counter-aa', limit: 10 })).map((s) => s.stream)[0]).toBe('counter-ab');
      expect((await store.listStreams({ prefix: 'counter-', after: 'a', limit: 1 })).map((s) => s.stream)).toEqual(['counter-a']);
      expect(await store.listStreams({ prefix: 'counter-', after: 'x', limit: 10 })).toEqual([]);
    });

    it('sees a new stream and a new version at once, and the same after a reopen', async () => {
      let store = await storeWithStreams(open);
      await store.append('counter-c', [event('E0'), event('E1')]);
      await store.append('counter-a', [event('E3')]);
      const expected = [
        { stream: 'counter-a', version: 4 },
        { stream: 'counter-ab', version: 1 },
        { stream: 'counter-b', version: 2 },
        { stream: 'counter-c', version: 2 },
      ];
      expect(await store.listStreams({ prefix: 'counter-', limit: 4 })).toEqual(expected);
      store = await reopen(store);
      expect(await store.listStreams({ prefix: 'counter-', limit: 4 })).toEqual(expected);
    });

    it('refuses options of the wrong kind, naming the option', async () => {
      const store = await open();
      const limit = await expectCode(store.listStreams({ limit: -1 }), 'INVALID_ARGUMENT');
      expect(limit.message).toContain('options.limit');
      await expectCode(store.listStreams({} as never), 'INVALID_ARGUMENT');
      const prefix = await expectCode(store.listStreams({ prefix: 3 as never, limit: 1 }), 'INVALID_ARGUMENT');
      expect(prefix.message).toContain('options.prefix');
      const after = await expectCode(store.listStreams({ after: null as never, limit: 1 }), 'INVALID_ARGUMENT');
      expect(after.message).toContain('options.after');
    });
  });
}
