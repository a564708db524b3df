/**
 * Closing and opening again: close lets the writes in flight finish, then every use fails with
 * STORE_CLOSED; what was written is there when the data is opened again.
 */
import { describe, expect, it } from 'vitest';
import { event, expectCode, expectDenseLog, typesOf } from './support.js';
import type { ContractContext, StoreUnderTest } from './support.js';

export function describeLifecycle({ open, reopen }: ContractContext): void {
  describe('close and reopen', () => {
    it('finishes the appends in flight, then refuses every use with STORE_CLOSED', async () => {
      const store = await open();
      const inFlight = store.append('s', [event('1')]);
      const closing = store.close();
      await expect(inFlight).resolves.toMatchObject({ version: 1 });
      await closing;
      await store.close(); // twice is fine
      const uses: ((s: StoreUnderTest) => Promise<unknown>)[] = [
        (s) => s.append('s', [event('2')]),
        (s) => s.appendBatch([]),
        (s) => s.findCommand('c'),
        (s) => s.readStream('s'),
        (s) => s.readAll(),
        (s) => s.lastPosition(),
        (s) => s.streamVersion('s'),
        (s) => s.getCheckpoint('p'),
        (s) => s.setCheckpoint('p', 1),
        (s) => s.advanceCheckpoint('p', 1),
        (s) => s.listCheckpoints(),
        (s) => s.deleteCheckpoint('p'),
        (s) => s.getSnapshot('s'),
        (s) => s.putSnapshot('s', { seq: 0, state: new Uint8Array() }),
      ];
      for (const use of uses) await expectCode(use(store), 'STORE_CLOSED');
      const reopened = await reopen(store);
      expect(typesOf(await reopened.readAll())).toEqual(['1']);
    });

    it('keeps the log, every stream, command id, checkpoint and snapshot across a reopen, and appends on after it', async () => {
      const store = await open();
      await store.appendBatch([
        { stream: 'a', events: [event('1'), event('2')], commandId: 'cmd-a', snapshot: { seq: 2, state: new Uint8Array([2]) } },
        { stream: 'b', events: [event('3')] },
      ]);
      await store.setCheckpoint('p', 2);
      const before = await store.readAll();
      const reopened = await reopen(store);
      expect(await reopened.readAll()).toEqual(before);
      expect(await reopened.streamVersion('a')).toBe(2);
      expect((await reopened.findCommand('cmd-a'))?.events.map((e) => e.position)).toEqual([1, 2]);
      expect(await reopened.getCheckpoint('p')).toBe(2);
      expect((await reopened.getSnapshot('a'))?.seq).toBe(2);
      await expect(reopened.append('a', [event('4')], { expected: 2 })).resolves.toMatchObject({
        version: 3,
        events: [{ position: 4, seq: 3 }],
      });
      await expectDenseLog(reopened);
    });
  });
}
