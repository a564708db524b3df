/**
 * Command ids: a retry gets the original result, on the same stream only; a reused id on another
 * stream is COMMAND_ID_REUSED; ids are remembered across a reopen and forgotten past the window.
 */
import { describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../../src/store/index.js';
import { event, expectCode } from './support.js';
import type { ContractContext } from './support.js';

export function describeIdempotency({ open, reopen }: ContractContext): void {
  describe('idempotent command ids', () => {
    it('returns the original result for a command id seen before, appending nothing, whatever the retry says', async () => {
      const store = await open();
      const original = await store.append('s', [event('1'), event('2')], { commandId: 'cmd-1' });
      await store.append('s', [event('3')]);
      const again = await store.append('s', [event('other')], { commandId: 'cmd-1', expected: 'no_stream' });
      expect(again).toEqual({ ...original, duplicate: true });
      expect(await store.lastPosition()).toBe(3);
      expect(await store.findCommand('cmd-1')).toEqual({ ...original, duplicate: true });
      expect(await store.findCommand('cmd-1', 's')).toEqual({ ...original, duplicate: true });
      expect(await store.findCommand('cmd-unknown')).toBeUndefined();
      expect(await store.findCommand('cmd-unknown', 's')).toBeUndefined();
    });

    it('recognises a command id repeated inside one batch, and remembers it after a reopen', async () => {
      const store = await open();
      const request: AppendRequest = { stream: 's', events: [event('1')], commandId: 'cmd-1' };
      const [first, second] = await store.appendBatch([request, request]);
      expect(first).toMatchObject({ ok: true, result: { duplicate: false } });
      expect(second).toMatchObject({ ok: true, result: { duplicate: true } });
      const reopened = await reopen(store);
      await expect(reopened.append('s', [event('1')], { commandId: 'cmd-1' })).resolves.toMatchObject({ duplicate: true, version: 1 });
      expect(await reopened.lastPosition()).toBe(1);
    });

    it('refuses a command id used before for another stream with COMMAND_ID_REUSED naming both, in an append, a batch and findCommand', async () => {
      const store = await open();
      await store.append('first', [event('1')], { commandId: 'cmd-1' });
      const error = await expectCode(store.append('second', [event('1')], { commandId: 'cmd-1' }), 'COMMAND_ID_REUSED');
      expect(error.message).toContain('"first"');
      expect(error.message).toContain('"second"');
      expect(error.data).toEqual({ commandId: 'cmd-1', stream: 'second', recordedStream: 'first' });
      expect(await store.streamVersion('second')).toBe(0);

      const [outcome] = await store.appendBatch([{ stream: 'second', events: [event('1')], commandId: 'cmd-1' }]);
      expect(!outcome!.ok && outcome!.error.code).toBe('COMMAND_ID_REUSED');
      const found = await expectCode(store.findCommand('cmd-1', 'second'), 'COMMAND_ID_REUSED');
      expect(found.data).toEqual({ commandId: 'cmd-1', stream: 'second', recordedStream: 'first' });
      expect(await store.lastPosition()).toBe(1);
    });

    it('forgets command ids past the idempotency window: the id may be used again', async () => {
      const store = await open({ idempotencyWindowMs: 0 }); // every record is past the window at once
      await store.append('s', [event('1')], { commandId: 'cmd-1' });
      expect(await store.findCommand('cmd-1')).toBeUndefined();
      await expect(store.append('s', [event('1')], { commandId: 'cmd-1' })).resolves.toMatchObject({ duplicate: false, version: 2 });
      // Past the window, an id is free for another stream too.
      await expect(store.append('t', [event('1')], { commandId: 'cmd-1' })).resolves.toMatchObject({ duplicate: false, version: 1 });
    });
  });
}
