/**
 * Snapshots: the latest per stream, never past the stream, and one carried by an append request
 * stored only when that request commits.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { event, expectCode } from './support.js';
import type { ContractContext } from './support.js';

export function describeSnapshots({ open, reopen }: ContractContext): void {
  describe('snapshots', () => {
    it('stores the latest snapshot of a stream, durably, and refuses one past the stream or without bytes', async () => {
      const store = await open();
      expect(await store.getSnapshot('s')).toBeUndefined();
      await store.append('s', [event('1'), event('2')]);
      await store.putSnapshot('s', { seq: 1, state: pack({ count: 1 }) });
      const state = pack({ count: 2 });
      await store.putSnapshot('s', { seq: 2, state });
      const snapshot = (await store.getSnapshot('s'))!;
      expect(snapshot.seq).toBe(2);
      expect(Buffer.from(snapshot.state).equals(Buffer.from(state))).toBe(true);
      await expectCode(store.putSnapshot('s', { seq: 3, state }), 'INVALID_ARGUMENT');
      await expectCode(store.putSnapshot('s', { seq: 1, state: 'x' as never }), 'INVALID_ARGUMENT');
      await expectCode(store.putSnapshot('new', { seq: 1, state }), 'INVALID_ARGUMENT');
      await expectCode(store.getSnapshot(''), 'INVALID_STREAM_NAME');
      const reopened = await reopen(store);
      expect((await reopened.getSnapshot('s'))!.seq).toBe(2);
      expect(await reopened.getSnapshot('new')).toBeUndefined();
    });

    it('writes a snapshot on an append request only when that request commits', async () => {
      const store = await open();
      const state = pack({ n: 1 });
      const outcomes = await store.appendBatch([
        { stream: 'a', events: [event('1')], snapshot: { seq: 1, state } },
        { stream: 'b', events: [event('1')], expected: 5, snapshot: { seq: 1, state } },
        { stream: 'c', events: [event('1')], snapshot: { seq: 2, state } }, // past the stream after the append
      ]);
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'WRONG_EXPECTED_VERSION', 'INVALID_ARGUMENT']);
      expect((await store.getSnapshot('a'))?.seq).toBe(1);
      expect(await store.getSnapshot('b')).toBeUndefined();
      expect(await store.getSnapshot('c')).toBeUndefined();
      expect(await store.streamVersion('c')).toBe(0);
    });
  });
}
