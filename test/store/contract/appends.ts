/**
 * Appends: what is stored, dense positions and per-stream seqs, requests all-or-nothing on their
 * own in a batch, and the expected version of every kind.
 */
import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { event, expectCode, expectDenseLog, typesOf } from './support.js';
import type { ContractContext, StoreUnderTest } from './support.js';

export function describeAppends({ open }: ContractContext): void {
  describe('append', () => {
    it('stores each event with position, seq, id, timestamp, type, metadata and its data byte for byte', async () => {
      const store = await open();
      // A view into the middle of a larger buffer: only the view's bytes must be stored.
      const backing = new Uint8Array([0xff, 0x92, 0x01, 0xa1, 0x78, 0xff]);
      const data = backing.subarray(1, 5);
      const before = Date.now();
      const result = await store.append('order-1', [
        {
          type: 'Placed',
          data,
          id: 'e-1',
          metadata: { correlationId: 'corr', causationId: 'cause', commandId: 'cmd', headers: { user: 'ann' } },
        },
        event('Paid', { amount: 3 }),
      ]);
      expect(result).toMatchObject({ stream: 'order-1', version: 2, duplicate: false });
      const [first, second] = await store.readStream('order-1');
      expect(first).toMatchObject({ position: 1, stream: 'order-1', seq: 1, id: 'e-1', type: 'Placed' });
      expect(first!.metadata).toEqual({ correlationId: 'corr', causationId: 'cause', commandId: 'cmd', headers: { user: 'ann' } });
      expect(Buffer.from(first!.data).equals(Buffer.from(data))).toBe(true);
      expect(first!.timestamp).toBeGreaterThanOrEqual(before);
      expect(first!.timestamp).toBeLessThanOrEqual(Date.now());
      expect(second).toMatchObject({ position: 2, seq: 2, type: 'Paid', metadata: {} });
      expect(second!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(unpack(second!.data)).toEqual({ amount: 3 });
      expect(result.events.map((e) => e.id)).toEqual([first!.id, second!.id]);
      expect(result.events.map((e) => e.position)).toEqual([1, 2]);
    });

    it('is all-or-nothing per request: a request that fails appends none of its events, and the other requests of the batch commit', async () => {
      const store = await open();
      await store.append('b', [event('Seeded')]);
      const outcomes = await store.appendBatch([
        { stream: 'a', events: [event('A1'), event('A2')] },
        { stream: 'b', events: [event('B1'), event('B2'), event('B3')], expected: 'no_stream' }, // conflicts
        { stream: 'c', events: [event('C1'), { type: 'C2', data: 'not bytes' as unknown as Uint8Array }] }, // invalid 2nd event
        { stream: 'd', events: [event('D1')] },
      ]);
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'WRONG_EXPECTED_VERSION', 'INVALID_EVENT', 'ok']);
      expect(typesOf(await store.readStream('b'))).toEqual(['Seeded']);
      expect(await store.readStream('c')).toEqual([]);
      expect(await store.streamVersion('c')).toBe(0);
      expect(typesOf(await store.readAll())).toEqual(['Seeded', 'A1', 'A2', 'D1']);
      await expectDenseLog(store);
    });

    it('lets requests to one stream in a batch see each other, in order', async () => {
      const store = await open();
      const outcomes = await store.appendBatch([
        { stream: 's', events: [event('1')], expected: 'no_stream' },
        { stream: 's', events: [event('2')], expected: 1 },
        { stream: 's', events: [event('x')], expected: 1 }, // stale: the request before moved it to 2
        { stream: 's', events: [event('3')], expected: 2 },
      ]);
      expect(outcomes.map((o) => (o.ok ? o.result.version : o.error.code))).toEqual([1, 2, 'WRONG_EXPECTED_VERSION', 3]);
      expect(typesOf(await store.readStream('s'))).toEqual(['1', '2', '3']);
    });

    it('fails a request made after the previous one to its stream (afterPrevious) when that one appended nothing, even where its expected version matches', async () => {
      const store = await open();
      await store.append('s', [event('0')], { commandId: 'seen' });
      await store.append('t', [event('0')]);
      const outcomes = await store.appendBatch([
        // Decided on a state at 0 (stale: the stream is at 1); the next was decided after it, at 1.
        { stream: 's', events: [event('stale')], expected: 0 },
        { stream: 's', events: [event('after-stale')], expected: 1, afterPrevious: true },
        { stream: 's', events: [event('still-after')], expected: 1, afterPrevious: true },
        // A new chain: decided on the stream as the store holds it.
        { stream: 's', events: [event('fresh')], expected: 1 },
        { stream: 's', events: [event('after-fresh')], expected: 2, afterPrevious: true },
        // A duplicate appends nothing: what was decided after it fails too.
        { stream: 't', events: [event('again')], commandId: 'seen-t' },
        { stream: 't', events: [event('dup')], commandId: 'seen-t' },
        { stream: 't', events: [event('after-dup')], expected: 2, afterPrevious: true },
        // An invalid request is refused before the commit: so is the one decided after it.
        { stream: 'u', events: [{ type: 'bad', data: 'not bytes' as unknown as Uint8Array }] },
        { stream: 'u', events: [event('after-invalid')], expected: 0, afterPrevious: true },
      ]);
      expect(outcomes.map((o) => (o.ok ? (o.result.duplicate ? 'duplicate' : o.result.version) : o.error.code))).toEqual([
        'WRONG_EXPECTED_VERSION',
        'WRONG_EXPECTED_VERSION',
        'WRONG_EXPECTED_VERSION',
        2,
        3,
        2,
        'duplicate',
        'WRONG_EXPECTED_VERSION',
        'INVALID_EVENT',
        'WRONG_EXPECTED_VERSION',
      ]);
      const second = outcomes[1]!;
      expect(!second.ok && second.error.data).toEqual({ stream: 's', expected: 1, actual: 1 });
      expect(typesOf(await store.readStream('s'))).toEqual(['0', 'fresh', 'after-fresh']);
      expect(typesOf(await store.readStream('t'))).toEqual(['0', 'again']);
      expect(await store.streamVersion('u')).toBe(0);
      await expectDenseLog(store);
    });

    it('assigns dense positions and per-stream seqs in commit order, also to many appends in flight at once, in the order they were made', async () => {
      const store = await open();
      const appends = Array.from({ length: 300 }, (_, i) =>
        store.append(`s-${i % 7}`, i % 3 === 0 ? [event('a'), event('b')] : [event('a')]),
      );
      const results = await Promise.all(appends);
      const positions = results.flatMap((r) => r.events.map((e) => e.position));
      expect(positions).toEqual(positions.map((_, i) => i + 1));
      for (const result of results)
        expect(result.events.map((e) => e.seq)).toEqual(result.events.map((_, k) => result.version - result.events.length + 1 + k));
      await expectDenseLog(store);
    });

    it('accepts an empty append as a check of the expected version', async () => {
      const store = await open();
      await expect(store.append('s', [], { expected: 'no_stream' })).resolves.toMatchObject({ version: 0, events: [] });
      await expectCode(store.append('s', [], { expected: 'exists' }), 'WRONG_EXPECTED_VERSION');
      expect(await store.lastPosition()).toBe(0);
    });
  });

  describe('expected version', () => {
    async function storeWithTwoEvents(): Promise<StoreUnderTest> {
      const store = await open();
      await store.append('s', [event('1'), event('2')]);
      return store;
    }

    it("'any' accepts a new stream and an existing one, and is the default", async () => {
      const store = await open();
      await expect(store.append('s', [event('1')], { expected: 'any' })).resolves.toMatchObject({ version: 1 });
      await expect(store.append('s', [event('2')], { expected: 'any' })).resolves.toMatchObject({ version: 2 });
      await expect(store.append('s', [event('3')])).resolves.toMatchObject({ version: 3 });
    });

    it("'no_stream' accepts a new stream and refuses an existing one, naming stream, expected and actual", async () => {
      const store = await storeWithTwoEvents();
      await expect(store.append('t', [event('1')], { expected: 'no_stream' })).resolves.toMatchObject({ version: 1 });
      const error = await expectCode(store.append('s', [event('3')], { expected: 'no_stream' }), 'WRONG_EXPECTED_VERSION');
      expect(error.data).toEqual({ stream: 's', expected: 'no_stream', actual: 2 });
      expect(error.message).toContain('"s"');
      expect(error.message).toContain('no_stream');
      expect(error.message).toContain('2');
      expect(await store.streamVersion('s')).toBe(2);
    });

    it("'exists' accepts an existing stream and refuses a new one", async () => {
      const store = await storeWithTwoEvents();
      await expect(store.append('s', [event('3')], { expected: 'exists' })).resolves.toMatchObject({ version: 3 });
      const error = await expectCode(store.append('t', [event('1')], { expected: 'exists' }), 'WRONG_EXPECTED_VERSION');
      expect(error.data).toEqual({ stream: 't', expected: 'exists', actual: 0 });
      expect(await store.streamVersion('t')).toBe(0);
    });

    it('an exact seq accepts the current version and refuses older or newer ones; 0 means no events', async () => {
      const store = await storeWithTwoEvents();
      await expect(store.append('s', [event('3')], { expected: 2 })).resolves.toMatchObject({ version: 3 });
      for (const stale of [0, 2, 4]) {
        const error = await expectCode(store.append('s', [event('x')], { expected: stale }), 'WRONG_EXPECTED_VERSION');
        expect(error.data).toEqual({ stream: 's', expected: stale, actual: 3 });
      }
      await expect(store.append('new', [event('1')], { expected: 0 })).resolves.toMatchObject({ version: 1 });
      expect(typesOf(await store.readStream('s'))).toEqual(['1', '2', '3']);
    });

    it('checks every kind in a batch too, as a failed outcome of that request alone', async () => {
      const store = await storeWithTwoEvents();
      const outcomes = await store.appendBatch([
        { stream: 's', events: [event('x')], expected: 'no_stream' },
        { stream: 'new', events: [event('x')], expected: 'exists' },
        { stream: 's', events: [event('x')], expected: 1 },
        { stream: 's', events: [event('3')], expected: 'exists' },
      ]);
      expect(outcomes.map((o) => (o.ok ? o.result.version : o.error.data))).toEqual([
        { stream: 's', expected: 'no_stream', actual: 2 },
        { stream: 'new', expected: 'exists', actual: 0 },
        { stream: 's', expected: 1, actual: 2 },
        3,
      ]);
      expect(await store.lastPosition()).toBe(3);
    });

    it('refuses a malformed expectation with INVALID_ARGUMENT naming the field', async () => {
      const store = await open();
      for (const bad of [-1, 1.5, 'latest', null]) {
        const error = await expectCode(store.append('s', [event('1')], { expected: bad as never }), 'INVALID_ARGUMENT');
        expect(error.message).toContain('options.expected');
      }
      expect(await store.lastPosition()).toBe(0);
    });
  });
}
