/**
 * The event store's invariants (design.md, "The event store"), one test each, on real LMDB.
 * Concurrency across threads, crashes, durability and the lock have their own files.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { AppendRequest } from '../../src/store/index.js';
import { event, expectCode, expectDenseLog, openStore, tempDir } from './helpers.js';

describe('append', () => {
  it('stores each event with position, seq, id, timestamp, type, metadata and its data byte for byte', async () => {
    const store = openStore();
    // A view into the middle of a larger buffer: only the view's bytes must be stored.
    const backing = new Uint8Array([0xff, 0x92, 0x01, 0xa1, 0x78, 0xff]);
    const data = backing.subarray(1, 5);
    const before = Date.now();
    const result = await store.append('order-1', [
      { type: 'Placed', data, id: 'e-1', metadata: { correlationId: 'corr', causationId: 'cause', commandId: 'cmd', headers: { user: 'ann' } } },
      event('Paid', { amount: 3 }),
    ]);
    expect(result).toMatchObject({ stream: 'order-1', version: 2, duplicate: false });
    const [first, second] = store.readStream('order-1');
    expect(first).toMatchObject({ position: 1, stream: 'order-1', seq: 1, id: 'e-1', type: 'Placed' });
    expect(first!.metadata).toEqual({ correlationId: 'corr', causationId: 'cause', commandId: 'cmd', headers: { user: 'ann' } });
    expect(Buffer.from(first!.data).equals(Buffer.from(data))).toBe(true);
    expect(first!.timestamp).toBeGreaterThanOrEqual(before);
    expect(first!.timestamp).toBeLessThanOrEqual(Date.now());
    expect(second).toMatchObject({ position: 2, seq: 2, type: 'Paid', metadata: {} });
    expect(second!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(unpack(second!.data)).toEqual({ amount: 3 });
    expect(result.events.map((e) => e.id)).toEqual([first!.id, second!.id]);
  });

  it('is atomic: a request that fails appends none of its events, and the other requests of the batch commit', async () => {
    const store = openStore();
    await store.append('b', [event('Seeded')]);
    const outcomes = await store.appendBatch([
      { stream: 'a', events: [event('A1'), event('A2')] },
      { stream: 'b', events: [event('B1'), event('B2'), event('B3')], expected: 'no_stream' }, // conflicts
      { stream: 'c', events: [event('C1'), { type: 'C2', data: 'not bytes' as unknown as Uint8Array }] }, // invalid 2nd event
      { stream: 'd', events: [event('D1')] },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'WRONG_EXPECTED_VERSION', 'INVALID_EVENT', 'ok']);
    expect(store.readStream('b').map((e) => e.type)).toEqual(['Seeded']);
    expect(store.readStream('c')).toEqual([]);
    expect(store.streamVersion('c')).toBe(0);
    expect(store.readAll().map((e) => e.type)).toEqual(['Seeded', 'A1', 'A2', 'D1']);
    expectDenseLog(store);
  });

  it('lets requests to one stream in a batch see each other, in order', async () => {
    const store = openStore();
    const outcomes = await store.appendBatch([
      { stream: 's', events: [event('1')], expected: 'no_stream' },
      { stream: 's', events: [event('2')], expected: 1 },
      { stream: 's', events: [event('x')], expected: 1 }, // stale: the request before moved it to 2
      { stream: 's', events: [event('3')], expected: 2 },
    ]);
    expect(outcomes.map((o) => (o.ok ? o.result.version : o.error.code))).toEqual([1, 2, 'WRONG_EXPECTED_VERSION', 3]);
    expect(store.readStream('s').map((e) => e.type)).toEqual(['1', '2', '3']);
  });

  it('assigns dense positions in commit order, also to many appends in flight at once (group commit)', async () => {
    const store = openStore();
    const appends = Array.from({ length: 300 }, (_, i) => store.append(`s-${i % 7}`, i % 3 === 0 ? [event('a'), event('b')] : [event('a')]));
    const results = await Promise.all(appends);
    // Appends queued in one thread commit in the order they were made.
    const positions = results.flatMap((r) => r.events.map((e) => e.position));
    expect(positions).toEqual(positions.map((_, i) => i + 1));
    expectDenseLog(store);
  });

  it('accepts an empty append as a check of the expected version', async () => {
    const store = openStore();
    await expect(store.append('s', [], { expected: 'no_stream' })).resolves.toMatchObject({ version: 0, events: [] });
    await expectCode(store.append('s', [], { expected: 'exists' }), 'WRONG_EXPECTED_VERSION');
    expect(store.lastPosition()).toBe(0);
  });
});

describe('expected version', () => {
  async function storeWithTwoEvents(): Promise<EventStore> {
    const store = openStore();
    await store.append('s', [event('1'), event('2')]);
    return store;
  }

  it("'any' accepts a new stream and an existing one", async () => {
    const store = openStore();
    await expect(store.append('s', [event('1')], { expected: 'any' })).resolves.toMatchObject({ version: 1 });
    await expect(store.append('s', [event('2')], { expected: 'any' })).resolves.toMatchObject({ version: 2 });
    await expect(store.append('s', [event('3')])).resolves.toMatchObject({ version: 3 }); // the default
  });

  it("'no_stream' accepts a new stream and refuses an existing one, naming stream, expected and actual", async () => {
    const store = await storeWithTwoEvents();
    await expect(store.append('t', [event('1')], { expected: 'no_stream' })).resolves.toMatchObject({ version: 1 });
    const error = await expectCode(store.append('s', [event('3')], { expected: 'no_stream' }), 'WRONG_EXPECTED_VERSION');
    expect(error.data).toEqual({ stream: 's', expected: 'no_stream', actual: 2 });
    expect(error.message).toContain('"s"');
    expect(error.message).toContain('no_stream');
    expect(error.message).toContain('2');
    expect(store.streamVersion('s')).toBe(2);
  });

  it("'exists' accepts an existing stream and refuses a new one", async () => {
    const store = await storeWithTwoEvents();
    await expect(store.append('s', [event('3')], { expected: 'exists' })).resolves.toMatchObject({ version: 3 });
    const error = await expectCode(store.append('t', [event('1')], { expected: 'exists' }), 'WRONG_EXPECTED_VERSION');
    expect(error.data).toEqual({ stream: 't', expected: 'exists', actual: 0 });
    expect(store.streamVersion('t')).toBe(0);
  });

  it('an exact seq accepts the current version and refuses older or newer ones; 0 means no events', async () => {
    const store = await storeWithTwoEvents();
    await expect(store.append('s', [event('3')], { expected: 2 })).resolves.toMatchObject({ version: 3 });
    for (const stale of [0, 2, 4]) {
      const error = await expectCode(store.append('s', [event('x')], { expected: stale }), 'WRONG_EXPECTED_VERSION');
      expect(error.data).toEqual({ stream: 's', expected: stale, actual: 3 });
    }
    await expect(store.append('new', [event('1')], { expected: 0 })).resolves.toMatchObject({ version: 1 });
    expect(store.readStream('s').map((e) => e.type)).toEqual(['1', '2', '3']);
  });

  it('refuses a malformed expectation with INVALID_ARGUMENT naming the field', async () => {
    const store = openStore();
    for (const bad of [-1, 1.5, 'latest', null]) {
      const error = await expectCode(store.append('s', [event('1')], { expected: bad as never }), 'INVALID_ARGUMENT');
      expect(error.message).toContain('options.expected');
    }
  });
});

describe('idempotency', () => {
  it('returns the original events for a command id seen before, appending nothing', async () => {
    const store = openStore();
    const original = await store.append('s', [event('1'), event('2')], { commandId: 'cmd-1' });
    await store.append('s', [event('3')]);
    const again = await store.append('s', [event('other')], { commandId: 'cmd-1', expected: 'no_stream' });
    expect(again).toEqual({ ...original, duplicate: true });
    expect(store.lastPosition()).toBe(3);
    expect(store.findCommand('cmd-1')).toEqual({ ...original, duplicate: true });
    expect(store.findCommand('cmd-unknown')).toBeUndefined();
  });

  it('recognises a command id repeated inside one batch, and remembers it after a reopen', async () => {
    const path = tempDir();
    const store = EventStore.open({ path });
    const request: AppendRequest = { stream: 's', events: [event('1')], commandId: 'cmd-1' };
    const [first, second] = await store.appendBatch([request, request]);
    expect(first).toMatchObject({ ok: true, result: { duplicate: false } });
    expect(second).toMatchObject({ ok: true, result: { duplicate: true } });
    await store.close();
    const reopened = openStore({ path });
    await expect(reopened.append('s', [event('1')], { commandId: 'cmd-1' })).resolves.toMatchObject({ duplicate: true, version: 1 });
    expect(reopened.lastPosition()).toBe(1);
  });

  it('refuses a command id used before for another stream, naming both', async () => {
    const store = openStore();
    await store.append('first', [event('1')], { commandId: 'cmd-1' });
    const error = await expectCode(store.append('second', [event('1')], { commandId: 'cmd-1' }), 'COMMAND_ID_REUSED');
    expect(error.message).toContain('"first"');
    expect(error.message).toContain('"second"');
    expect(store.streamVersion('second')).toBe(0);
  });

  it('forgets command ids past the window, and prunes them', async () => {
    const path = tempDir();
    const store = openStore({ path, idempotencyWindowMs: 0 }); // every record is past the window at once
    await store.append('s', [event('1')], { commandId: 'cmd-1' });
    expect(store.findCommand('cmd-1')).toBeUndefined();
    const again = await store.append('s', [event('1')], { commandId: 'cmd-1' });
    expect(again).toMatchObject({ duplicate: false, version: 2 });

    // Pruning runs inside an append at most once a second per store; a fresh store prunes on its
    // first append. Records from the same millisecond are not yet past a 0 ms window: let it tick.
    const last = again.events[0]!.timestamp;
    while (Date.now() <= last) {
      // busy-wait for the clock, not for another thread
    }
    const pruner = openStore({ path, lock: false, idempotencyWindowMs: 0 });
    await pruner.append('other', [event('1')]);
    const { openDatabases } = await import('../../src/store/databases.js');
    const dbs = openDatabases(path);
    expect(dbs.commands.get('cmd-1')).toBeUndefined();
    expect([...dbs.commandExpiry.getKeys()]).toEqual([]);
    await dbs.root.close();
  });
});

describe('reads', () => {
  async function storeWithStream(): Promise<EventStore> {
    const store = openStore();
    for (let i = 1; i <= 5; i++) await store.append(i % 2 ? 's' : 'other', [event(`${i}`)]);
    await store.append('s', [event('6'), event('7')]);
    return store; // s: 1 3 5 6 7 (seq 1..5), other: 2 4
  }

  it('readStream reads forwards and backwards, from a seq, with a limit', async () => {
    const store = await storeWithStream();
    const types = (options = {}): string[] => store.readStream('s', options).map((e) => e.type);
    expect(types()).toEqual(['1', '3', '5', '6', '7']);
    expect(store.readStream('s').map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(types({ from: 3 })).toEqual(['5', '6', '7']);
    expect(types({ from: 2, limit: 2 })).toEqual(['3', '5']);
    expect(types({ backwards: true })).toEqual(['7', '6', '5', '3', '1']);
    expect(types({ backwards: true, from: 3, limit: 2 })).toEqual(['5', '3']);
    expect(types({ from: 9 })).toEqual([]);
    expect(types({ limit: 0 })).toEqual([]);
    expect(store.readStream('unknown')).toEqual([]);
    await expectCode(() => store.readStream('s', { from: 0 }), 'INVALID_ARGUMENT');
    await expectCode(() => store.readStream('s', { limit: -1 }), 'INVALID_ARGUMENT');
  });

  it('readAll reads the global log from a position, with a limit', async () => {
    const store = await storeWithStream();
    expect(store.readAll().map((e) => e.type)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(store.readAll({ from: 4, limit: 2 }).map((e) => e.position)).toEqual([4, 5]);
    expect(store.readAll({ from: 8 })).toEqual([]);
    expect(store.lastPosition()).toBe(7);
    expect(store.streamVersion('other')).toBe(2);
    expect(store.streamVersion('unknown')).toBe(0);
    const error = await expectCode(() => store.readAll({ from: -3 }), 'INVALID_ARGUMENT');
    expect(error.message).toContain('options.from');
  });
});

describe('checkpoints and snapshots', () => {
  it('stores checkpoints by name, durably across a reopen', async () => {
    const path = tempDir();
    const store = EventStore.open({ path });
    expect(store.getCheckpoint('projection-a')).toBeUndefined();
    await store.setCheckpoint('projection-a', 10);
    await store.setCheckpoint('projection-a', 12);
    await store.setCheckpoint('relay-b', 0);
    await store.close();
    const reopened = openStore({ path });
    expect(reopened.getCheckpoint('projection-a')).toBe(12);
    expect(reopened.getCheckpoint('relay-b')).toBe(0);
    await expectCode(reopened.setCheckpoint('', 1), 'INVALID_ARGUMENT');
    await expectCode(reopened.setCheckpoint('p', -1), 'INVALID_ARGUMENT');
  });

  it('advances a checkpoint only forward, also under concurrent out-of-order calls', async () => {
    const store = openStore();
    expect(await store.advanceCheckpoint('subscriber:a', 5)).toBe(5);
    expect(await store.advanceCheckpoint('subscriber:a', 3)).toBe(5);
    // In flight together, in one group commit: the largest wins whatever the order.
    const results = await Promise.all([9, 40, 7, 12, 40, 1].map((p) => store.advanceCheckpoint('subscriber:a', p)));
    expect(Math.max(...results)).toBe(40);
    expect(store.getCheckpoint('subscriber:a')).toBe(40);
    // setCheckpoint is the way back (a reset).
    await store.setCheckpoint('subscriber:a', 0);
    expect(await store.advanceCheckpoint('subscriber:a', 2)).toBe(2);
    await expectCode(store.advanceCheckpoint('subscriber:a', -1), 'INVALID_ARGUMENT');
  });

  it('lists checkpoints by name prefix, in name order', async () => {
    const store = openStore();
    for (const [name, position] of [['subscriber:b', 2], ['projection', 7], ['subscriber:a', 1], ['subscriber', 9], ['subscribes', 3]] as const) {
      await store.setCheckpoint(name, position);
    }
    expect(store.listCheckpoints('subscriber:')).toEqual([
      { name: 'subscriber:a', position: 1 },
      { name: 'subscriber:b', position: 2 },
    ]);
    expect(store.listCheckpoints().map((c) => c.name)).toEqual(['projection', 'subscriber', 'subscriber:a', 'subscriber:b', 'subscribes']);
    expect(store.listCheckpoints('nothing-')).toEqual([]);
  });

  it('stores the latest snapshot of a stream, and refuses one past the stream', async () => {
    const store = openStore();
    expect(store.getSnapshot('s')).toBeUndefined();
    await store.append('s', [event('1'), event('2')]);
    const state = pack({ count: 2 });
    await store.putSnapshot('s', { seq: 2, state });
    const snapshot = store.getSnapshot('s')!;
    expect(snapshot.seq).toBe(2);
    expect(Buffer.from(snapshot.state).equals(Buffer.from(state))).toBe(true);
    await expectCode(store.putSnapshot('s', { seq: 3, state }), 'INVALID_ARGUMENT');
    await expectCode(store.putSnapshot('s', { seq: 1, state: 'x' as never }), 'INVALID_ARGUMENT');
    expect(store.getSnapshot('s')!.seq).toBe(2);
  });

  it('writes a snapshot on an append request only when that request commits', async () => {
    const store = openStore();
    const state = pack({ n: 1 });
    const outcomes = await store.appendBatch([
      { stream: 'a', events: [event('1')], snapshot: { seq: 1, state } },
      { stream: 'b', events: [event('1')], expected: 5, snapshot: { seq: 1, state } },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(store.getSnapshot('a')?.seq).toBe(1);
    expect(store.getSnapshot('b')).toBeUndefined();
  });
});

describe('input checks', () => {
  it('refuses invalid stream names with INVALID_STREAM_NAME, on writes and reads', async () => {
    const store = openStore();
    for (const bad of ['', 'a\u0000b', 'tab\there', 'del\u007f', 'c1\u0085', 'x'.repeat(257), 'é'.repeat(129), 'lone\ud800', 42]) {
      await expectCode(store.append(bad as string, [event('1')]), 'INVALID_STREAM_NAME');
      await expectCode(() => store.readStream(bad as string), 'INVALID_STREAM_NAME');
      await expectCode(() => store.streamVersion(bad as string), 'INVALID_STREAM_NAME');
    }
    await expect(store.append('счёт-😀-' + 'x'.repeat(240), [event('1')])).resolves.toMatchObject({ version: 1 });
    expect(store.lastPosition()).toBe(1);
  });

  it('refuses invalid events with INVALID_EVENT naming the event', async () => {
    const store = openStore();
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
    expect(store.lastPosition()).toBe(0);
  });

  it('refuses bad options with INVALID_ARGUMENT naming the field', async () => {
    const path = tempDir();
    const bad: [object, string][] = [
      [{}, 'options.path'],
      [{ path, durability: 'fast' }, 'options.durability'],
      [{ path, lock: 'yes' }, 'options.lock'],
      [{ path, idempotencyWindowMs: -1 }, 'options.idempotencyWindowMs'],
    ];
    for (const [options, field] of bad) {
      const error = await expectCode(() => EventStore.open(options as never), 'INVALID_ARGUMENT');
      expect(error.message).toContain(field);
    }
    const store = openStore({ path });
    const error = await expectCode(store.append('s', [event('1')], { commandId: '' }), 'INVALID_ARGUMENT');
    expect(error.message).toContain('options.commandId');
  });
});

describe('close', () => {
  it('finishes the appends in flight, then refuses every use with STORE_CLOSED', async () => {
    const path = tempDir();
    const store = EventStore.open({ path });
    const inFlight = store.append('s', [event('1')]);
    const closing = store.close();
    await expect(inFlight).resolves.toMatchObject({ version: 1 });
    await closing;
    await store.close(); // twice is fine
    const uses: (() => unknown)[] = [
      () => store.append('s', [event('2')]),
      () => store.appendBatch([]),
      () => store.readStream('s'),
      () => store.readAll(),
      () => store.lastPosition(),
      () => store.streamVersion('s'),
      () => store.findCommand('c'),
      () => store.getCheckpoint('p'),
      () => store.setCheckpoint('p', 1),
      () => store.getSnapshot('s'),
      () => store.putSnapshot('s', { seq: 0, state: new Uint8Array() }),
    ];
    for (const use of uses) await expectCode(use, 'STORE_CLOSED');
    const reopened = openStore({ path });
    expect(reopened.readAll().map((e) => e.type)).toEqual(['1']);
  });
});
