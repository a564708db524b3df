/**
 * Checkpoints: stored by name and kept across a reopen, set (also back), advanced never back
 * even by concurrent calls, listed by prefix in name order, deleted.
 */
import { describe, expect, it } from 'vitest';
import { expectCode } from './support.js';
import type { ContractContext } from './support.js';

export function describeCheckpoints({ open, reopen }: ContractContext): void {
  describe('checkpoints', () => {
    it('stores checkpoints by name, durably across a reopen, and refuses a bad name or position', async () => {
      const store = await open();
      expect(await store.getCheckpoint('projection-a')).toBeUndefined();
      await store.setCheckpoint('projection-a', 10);
      await store.setCheckpoint('projection-a', 12);
      await store.setCheckpoint('relay-b', 0);
      const reopened = await reopen(store);
      expect(await reopened.getCheckpoint('projection-a')).toBe(12);
      expect(await reopened.getCheckpoint('relay-b')).toBe(0);
      await expectCode(reopened.setCheckpoint('', 1), 'INVALID_ARGUMENT');
      await expectCode(reopened.setCheckpoint('p', -1), 'INVALID_ARGUMENT');
      await expectCode(reopened.getCheckpoint('bad\u0000name'), 'INVALID_ARGUMENT');
    });

    it('advances a checkpoint only forward, also under concurrent out-of-order calls; setCheckpoint is the way back', async () => {
      const store = await open();
      expect(await store.advanceCheckpoint('subscriber:a', 5)).toBe(5);
      expect(await store.advanceCheckpoint('subscriber:a', 3)).toBe(5);
      expect(await store.advanceCheckpoint('subscriber:a', 5)).toBe(5);
      // In flight together: the largest wins whatever the order they land in.
      const results = await Promise.all([9, 40, 7, 12, 40, 1].map((p) => store.advanceCheckpoint('subscriber:a', p)));
      expect(Math.max(...results)).toBe(40);
      for (const result of results) expect(result).toBeGreaterThanOrEqual(5);
      expect(await store.getCheckpoint('subscriber:a')).toBe(40);
      // Many rounds of racing calls with their largest first: a lower one must never land last.
      for (let round = 1; round <= 20; round++) {
        const top = 100 * round;
        await Promise.all([top, top - 1, top - 50, top - 99].map((p) => store.advanceCheckpoint('subscriber:b', p)));
        expect(await store.getCheckpoint('subscriber:b'), `round ${round}`).toBe(top);
      }
      await store.setCheckpoint('subscriber:a', 0);
      expect(await store.getCheckpoint('subscriber:a')).toBe(0);
      expect(await store.advanceCheckpoint('subscriber:a', 2)).toBe(2);
      await expectCode(store.advanceCheckpoint('subscriber:a', -1), 'INVALID_ARGUMENT');
    });

    it('lists checkpoints by name prefix, in name order', async () => {
      const store = await open();
      for (const [name, position] of [
        ['subscriber:b', 2],
        ['projection', 7],
        ['subscriber:a', 1],
        ['subscriber', 9],
        ['subscribes', 3],
      ] as const) {
        await store.setCheckpoint(name, position);
      }
      expect(await store.listCheckpoints('subscriber:')).toEqual([
        { name: 'subscriber:a', position: 1 },
        { name: 'subscriber:b', position: 2 },
      ]);
      expect((await store.listCheckpoints()).map((c) => c.name)).toEqual([
        'projection',
        'subscriber',
        'subscriber:a',
        'subscriber:b',
        'subscribes',
      ]);
      expect((await store.listCheckpoints('')).map((c) => c.name)).toHaveLength(5);
      expect(await store.listCheckpoints('nothing-')).toEqual([]);
    });

    it('deletes a checkpoint, durably, saying whether there was one', async () => {
      const store = await open();
      await store.setCheckpoint('subscriber:a', 4);
      await store.setCheckpoint('subscriber:b', 6);
      expect(await store.deleteCheckpoint('subscriber:a')).toBe(true);
      expect(await store.deleteCheckpoint('subscriber:a')).toBe(false);
      expect(await store.deleteCheckpoint('never-stored')).toBe(false);
      expect(await store.getCheckpoint('subscriber:a')).toBeUndefined();
      const reopened = await reopen(store);
      expect(await reopened.listCheckpoints()).toEqual([{ name: 'subscriber:b', position: 6 }]);
      // A consumer that starts again under a deleted name starts from scratch.
      expect(await reopened.advanceCheckpoint('subscriber:a', 1)).toBe(1);
    });
  });
}
