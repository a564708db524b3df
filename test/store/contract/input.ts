/**
 * What an append refuses before writing anything: bad names, bad events, bad options, and
 * requests over the limits on events per request, event size and metadata size.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { event, expectCode, sized } from './support.js';
import type { ContractContext } from './support.js';

export function describeInput({ open }: ContractContext): void {
  describe('input checks', () => {
    it('refuses invalid stream names with INVALID_STREAM_NAME, on writes and reads', async () => {
      const store = await open();
      for (const bad of ['', 'a\u0000b', 'tab\there', 'del\u007f', 'c1\u0085', 'x'.repeat(257), 'é'.repeat(129), 'lone\ud800', 42]) {
        await expectCode(store.append(bad as string, [event('1')]), 'INVALID_STREAM_NAME');
        await expectCode(store.readStream(bad as string), 'INVALID_STREAM_NAME');
        await expectCode(store.streamVersion(bad as string), 'INVALID_STREAM_NAME');
      }
      await expect(store.append('счёт-😀-' + 'x'.repeat(240), [event('1')])).resolves.toMatchObject({ version: 1 });
      expect(await store.lastPosition()).toBe(1);
    });

    it('refuses invalid events with INVALID_EVENT naming the event', async () => {
      const store = await open();
      const cases: unknown[] = [
        { type: '', data: pack(1) },
        { type: 'x'.repeat(257), data: pack(1) },
        { type: 'T', data: [1, 2] },
        { type: 'T' },
        { type: 'T', data: pack(1), metadata: { userId: 'u' } },
        { type: 'T', data: pack(1), metadata: { headers: { n: 1 } } },
        { type: 'T', data: pack(1), id: '' },
        null,
      ];
      for (const bad of cases) {
        const error = await expectCode(store.append('s', [event('ok'), bad as never]), 'INVALID_EVENT');
        expect(error.message).toContain('event 1 for stream "s"');
      }
      await expectCode(store.append('s', 'nope' as never), 'INVALID_ARGUMENT');
      expect(await store.lastPosition()).toBe(0);
    });

    it('refuses a bad command id with INVALID_ARGUMENT naming the field', async () => {
      const store = await open();
      const error = await expectCode(store.append('s', [event('1')], { commandId: '' }), 'INVALID_ARGUMENT');
      expect(error.message).toContain('options.commandId');
      expect(await store.lastPosition()).toBe(0);
    });
  });

  describe('append limits', () => {
    it('refuses an append of more events than maxEventsPerAppend with TOO_MANY_EVENTS, appending nothing', async () => {
      const store = await open({ maxEventsPerAppend: 3 });
      const error = await expectCode(store.append('s', [event('A'), event('A'), event('A'), event('A')]), 'TOO_MANY_EVENTS');
      expect(error.data).toEqual({ stream: 's', count: 4, limit: 3 });
      await store.append('s', [event('A'), event('A'), event('A')]);
      expect(await store.lastPosition()).toBe(3);
    });

    it('refuses an event over maxEventBytes with EVENT_TOO_LARGE, and only that request of a batch', async () => {
      const store = await open({ maxEventBytes: 100 });
      const outcomes = await store.appendBatch([
        { stream: 'a', events: [sized(100)] },
        { stream: 'b', events: [sized(10), sized(101)] },
        { stream: 'c', events: [sized(1)] },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      expect(!outcomes[1]!.ok && outcomes[1]!.error.code).toBe('EVENT_TOO_LARGE');
      expect(await store.readStream('b')).toEqual([]);
      expect((await store.readAll()).map((e) => e.stream)).toEqual(['a', 'c']);
    });

    it('refuses metadata over maxMetadataBytes with METADATA_TOO_LARGE', async () => {
      const store = await open({ maxMetadataBytes: 32 });
      await store.append('s', [{ ...event('A'), metadata: { headers: { user: 'ann' } } }]);
      const error = await expectCode(
        store.append('s', [{ ...event('A'), metadata: { headers: { note: 'x'.repeat(40) } } }]),
        'METADATA_TOO_LARGE',
      );
      expect(error.message).toContain('the limit is 32');
      expect(await store.streamVersion('s')).toBe(1);
    });

    it('has defaults: 1,000 events, 1 MiB of data, 16 KiB of metadata', async () => {
      const store = await open();
      await expectCode(
        store.append(
          's',
          Array.from({ length: 1001 }, () => event('A')),
        ),
        'TOO_MANY_EVENTS',
      );
      await expectCode(store.append('s', [sized(1024 * 1024 + 1)]), 'EVENT_TOO_LARGE');
      await expectCode(
        store.append('s', [{ ...event('A'), metadata: { correlationId: 'c'.repeat(16 * 1024 + 1) } }]),
        'METADATA_TOO_LARGE',
      );
      expect(await store.lastPosition()).toBe(0);
    });
  });
}
