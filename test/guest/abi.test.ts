// The guest SDK's side of ABI v1 (docs/abi.md), through raw WebAssembly and without the host
// wrapper: exact bytes in and out, every msgpack header form accepted, the handle table, apply's
// statuses, payload problems as INVALID_PAYLOAD, snapshots. The examples are built here from the
// current sources (the host's tests use the modules/*.wasm that `npm run prepare` built).
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAggregate } from '../../src/cli/build.js';
import { RawGuest, bytes } from './raw-guest.js';

const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });
const dir = mkdtempSync(join(tmpdir(), 'thalo-guest-abi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modules: Record<string, WebAssembly.Module> = {};
beforeAll(async () => {
  for (const name of ['counter', 'bank_account', 'todos']) {
    const { file } = await buildAggregate(join('modules', name), dir);
    modules[name] = await WebAssembly.compile(await readFile(file));
  }
});

const guest = (name: string) => RawGuest.fromModule(modules[name]!);
const command = (name: string, payload: unknown) => packr.pack([name, payload]);
const events = (...list: [string, unknown][]) => packr.pack(list);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A counter state with `count` applied. */
function counterAt(count: number): { g: RawGuest; handle: number } {
  const g = guest('counter');
  const handle = g.create('c');
  if (count > 0) expect(g.apply(handle, events(['Incremented', { amount: count }]))).toBe(0);
  return { g, handle };
}

describe('the examples as modules', () => {
  it('import only env.abort and thalo.log, and export ABI v1 with snapshots', () => {
    for (const [name, module] of Object.entries(modules)) {
      expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort(), name).toEqual(['env.abort', 'thalo.log']);
      expect(WebAssembly.Module.exports(module).map((e) => e.name).sort(), name).toEqual(
        ['memory', 'thalo_abi_version', 'thalo_alloc', 'thalo_apply', 'thalo_describe', 'thalo_drop', 'thalo_free', 'thalo_handle', 'thalo_new', 'thalo_restore', 'thalo_snapshot'].sort(),
      );
      expect(guest(name).exports.thalo_abi_version()).toBe(1);
    }
  });

  it('describe themselves', () => {
    expect(unpack(guest('counter').describe())).toEqual({ name: 'counter', version: '1.0.0', commands: ['Increment'], events: ['Incremented'] });
    expect(unpack(guest('bank_account').describe())).toMatchObject({ commands: ['OpenAccount', 'Deposit', 'Withdraw'], events: ['AccountOpened', 'Deposited', 'Withdrawn'] });
    expect(unpack(guest('todos').describe())).toMatchObject({
      commands: ['AddTodo', 'RenameTodo', 'CompleteTodo', 'RemoveTodo'],
      events: ['TodoAdded', 'TodoRenamed', 'TodoCompleted', 'TodoRemoved'],
    });
  });
});

describe('commands and results, byte for byte', () => {
  it("answers the ABI page's example exactly", () => {
    const { g, handle } = counterAt(0);
    const result = g.handle(handle, bytes(0x92, 'Increment', 0x81, 'amount', 0x05));
    expect(hex(result)).toBe(hex(bytes(0x92, 0x00, 0x91, 0x92, 'Incremented', 0x81, 'amount', 0x05)));
  });

  it('reads commands written with any header form', () => {
    const { g, handle } = counterAt(0);
    const expected = hex(g.handle(handle, command('Increment', { amount: 5 })));
    const name = [0x49, 0x6e, 0x63, 0x72, 0x65, 0x6d, 0x65, 0x6e, 0x74]; // "Increment"
    const key = [0x61, 0x6d, 0x6f, 0x75, 0x6e, 0x74]; // "amount"
    for (const form of [
      bytes(0xdc, 0x00, 0x02, 0xd9, 9, ...name, 0x81, 0xd9, 6, ...key, 0xcc, 5),
      bytes(0xdd, 0, 0, 0, 2, 0xda, 0, 9, ...name, 0xdf, 0, 0, 0, 1, 0xdb, 0, 0, 0, 6, ...key, 0xcd, 0, 5),
      bytes(0x92, 'Increment', 0x82, 'note', 0xc0, 'amount', 0xd3, 0, 0, 0, 0, 0, 0, 0, 5),
      bytes(0x92, 'Increment', 0x81, 'amount', 0xcb, 0x40, 0x14, 0, 0, 0, 0, 0, 0), // 5.0
    ]) {
      expect(hex(g.handle(handle, form)), hex(form)).toBe(expected);
    }
  });

  it('reads an integer that msgpackr packed as a float64, and writes it back the way msgpackr does', () => {
    const { g, handle } = counterAt(0);
    for (const amount of [2 ** 32, 1.7e12, 2 ** 53 - 1]) {
      const input = command('Increment', { amount });
      expect(input.includes(0xcb), 'packed as a float64').toBe(true);
      const result = g.handle(handle, input);
      expect(unpack(result)).toEqual([0, [['Incremented', { amount }]]]);
      expect(hex(result).endsWith(`a6${hex(Buffer.from('amount'))}${hex(packr.pack(amount))}`)).toBe(true);
    }
  });

  it('rejects a payload it cannot read with INVALID_PAYLOAD naming the field, whatever the handler decided', () => {
    const { g, handle } = counterAt(0);
    const rejection = (payload: unknown) => unpack(g.handle(handle, command('Increment', payload)));
    const invalid = [1, 'INVALID_PAYLOAD', 'Increment: amount must be an integer', null];
    for (const payload of [{ amount: 'five' }, { amount: 1.5 }, { amount: null }, { amount: true }, { amount: [5] }, {}, { amt: 5 }, null, undefined, 5, 'amount', [5]]) {
      expect(rejection(payload), JSON.stringify(payload)).toEqual(invalid);
    }
    // The handler's own rejection, once the payload reads.
    expect(rejection({ amount: 0 })).toEqual([1, 'INVALID_AMOUNT', 'amount must be a positive integer', null]);
    const todos = guest('todos');
    expect(unpack(todos.handle(todos.create('t'), command('AddTodo', { id: 'a', title: 7 })))).toEqual([1, 'INVALID_PAYLOAD', 'AddTodo: title must be a string', null]);
  });

  it('rejects what is not a command, and a command it was not registered for', () => {
    const { g, handle } = counterAt(0);
    expect(unpack(g.handle(handle, packr.pack(['Increment'])))).toEqual([1, 'INVALID_PAYLOAD', 'a command must be [name, payload]', null]);
    expect(unpack(g.handle(handle, packr.pack({ Increment: 1 })))).toEqual([1, 'INVALID_PAYLOAD', 'a command must be [name, payload]', null]);
    expect(unpack(g.handle(handle, packr.pack([5, {}])))).toEqual([1, 'INVALID_PAYLOAD', 'malformed command: expected a string', null]);
    expect(unpack(g.handle(handle, bytes(0x92, 'Increment', 0xde, 0x00, 0x05)))).toEqual([1, 'INVALID_PAYLOAD', 'malformed command: truncated msgpack', null]);
    expect(unpack(g.handle(handle, command('Decrement', { amount: 1 })))).toEqual([1, 'UNKNOWN_COMMAND', 'counter has no command Decrement', null]);
  });

  it('carries rejection data: INSUFFICIENT_FUNDS says the balance and the request', () => {
    const g = guest('bank_account');
    const handle = g.create('acc');
    expect(g.apply(handle, events(['AccountOpened', { initial_balance: 50 }], ['Deposited', { amount: 25 }]))).toBe(0);
    expect(unpack(g.handle(handle, command('Withdraw', { amount: 76 })))).toEqual([1, 'INSUFFICIENT_FUNDS', 'cannot withdraw 76 from a balance of 75', { balance: 75, requested: 76 }]);
  });

  it('does not change the state in handle', () => {
    const { g, handle } = counterAt(3);
    g.handle(handle, command('Increment', { amount: 4 }));
    expect(unpack(g.snapshot(handle))).toEqual({ count: 3 });
  });
});

describe('thalo_apply', () => {
  it('reads event lists written with any header form', () => {
    const { g, handle } = counterAt(0);
    const type = [0x49, 0x6e, 0x63, 0x72, 0x65, 0x6d, 0x65, 0x6e, 0x74, 0x65, 0x64]; // "Incremented"
    const list = bytes(
      0xdd, 0, 0, 0, 3,
      0xdc, 0, 2, 0xd9, 11, ...type, 0xde, 0, 1, 'amount', 0xcc, 200,
      0x92, 0xda, 0, 11, ...type, 0xdf, 0, 0, 0, 1, 'amount', 0xce, 0, 0, 1, 0,
      0x92, 0xdb, 0, 0, 0, 11, ...type, 0x81, 'amount', 0xd0, 0xff,
    );
    expect(g.apply(handle, list)).toBe(0);
    expect(unpack(g.snapshot(handle))).toEqual({ count: 200 + 256 - 1 });
  });

  it('passes over event types it does not know (an older version may have written them)', () => {
    const { g, handle } = counterAt(2);
    expect(g.apply(handle, events(['Reset', {}], ['Incremented', { amount: 1 }]))).toBe(0);
    expect(unpack(g.snapshot(handle))).toEqual({ count: 3 });
  });

  it('fails with a status and a logged reason, never with zeros', () => {
    const { g, handle } = counterAt(0);
    expect(g.apply(handle, packr.pack([['Incremented']]))).toBe(2);
    expect(g.logs.at(-1)).toEqual([3, 'an event must be [type, data]']);
    expect(g.apply(handle, bytes(0x91, 0x92, 'Incremented', 0x81, 'amount'))).toBe(3);
    expect(g.logs.at(-1)).toEqual([3, 'malformed event list: truncated msgpack']);
    expect(g.apply(handle, events(['Incremented', { amount: 'x' }]))).toBe(4);
    expect(g.logs.at(-1)).toEqual([3, 'cannot apply Incremented: amount must be an integer']);
    expect(g.apply(handle, events(['Incremented', {}]))).toBe(4);
    expect(g.apply(handle, bytes(0xdd, 0xff, 0xff, 0xff, 0xff))).toBe(3);
  });
});

describe('the handle table', () => {
  it('hands out positive handles, reuses dropped ones, and keeps states apart', () => {
    const g = guest('counter');
    const [a, b, c] = [g.create('a'), g.create('b'), g.create('c')];
    expect([a, b, c].every((h) => h > 0)).toBe(true);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(g.apply(b, events(['Incremented', { amount: 9 }]))).toBe(0);
    g.drop(b);
    const d = g.create('d');
    expect(d).toBe(b);
    expect(unpack(g.snapshot(d))).toEqual({ count: 0 });
    expect(unpack(g.snapshot(a))).toEqual({ count: 0 });
  });

  it('treats an unknown handle as a host bug: an empty result or a failure status, and a logged line', () => {
    const g = guest('counter');
    const handle = g.create('a');
    g.drop(handle);
    for (const unknown of [handle, 0, -1, 1_000_000]) {
      g.drop(unknown);
      expect(g.handle(unknown, command('Increment', { amount: 1 })).length, String(unknown)).toBe(0);
      expect(g.logs.at(-1)).toEqual([3, `no state for handle ${unknown}`]);
      expect(g.apply(unknown, events(['Incremented', { amount: 1 }]))).toBe(1);
      expect(hex(g.snapshot(unknown))).toBe('c0');
      expect(g.logs.at(-1)).toEqual([3, `no state for handle ${unknown}`]);
    }
  });
});

describe('snapshots', () => {
  it('restore a state that answers like the one replayed from its events', () => {
    const g = guest('todos');
    const live = g.create('list');
    const stored: [string, unknown][] = [
      ['TodoAdded', { id: 'a', title: 'Grüße, 世界 🌍' }],
      ['TodoAdded', { id: 'b', title: 'x'.repeat(300) }],
      ['TodoCompleted', { id: 'a' }],
      ['TodoRenamed', { id: 'b', title: 'renamed' }],
      ['TodoAdded', { id: 'ü', title: 'third' }],
      ['TodoRemoved', { id: 'ü' }],
    ];
    expect(g.apply(live, events(...stored))).toBe(0);
    const snapshot = g.snapshot(live);
    expect(unpack(snapshot)).toEqual({ items: { a: { title: 'Grüße, 世界 🌍', done: true }, b: { title: 'renamed', done: false } } });
    const restored = g.restore('list', snapshot);
    expect(restored).toBeGreaterThan(0);
    expect(hex(g.snapshot(restored))).toBe(hex(snapshot));
    for (const probe of [command('CompleteTodo', { id: 'a' }), command('CompleteTodo', { id: 'b' }), command('AddTodo', { id: 'ü', title: 'back' }), command('RemoveTodo', { id: 'c' })]) {
      expect(hex(g.handle(restored, probe))).toBe(hex(g.handle(live, probe)));
    }
  });

  it('refuse bytes they cannot restore with handle 0 and a logged reason', () => {
    const g = guest('bank_account');
    expect(g.restore('acc', packr.pack([1, 2]))).toBe(0);
    expect(g.logs.at(-1)).toEqual([3, 'a snapshot must be a msgpack map']);
    expect(g.restore('acc', packr.pack({ open: 'yes', balance: 5 }))).toBe(0);
    expect(g.logs.at(-1)).toEqual([3, 'cannot restore the snapshot: open must be a boolean']);
    expect(g.restore('acc', packr.pack({ open: true, balance: 5 }))).toBeGreaterThan(0);
  });
});

describe('thalo_alloc', () => {
  it('returns 0 for what it cannot give, and the module carries on', () => {
    const g = guest('counter');
    expect(g.exports.thalo_alloc(2 ** 31 - 1)).toBe(0);
    expect(g.exports.thalo_alloc(-1)).toBe(0);
    const handle = g.create('c');
    expect(unpack(g.handle(handle, command('Increment', { amount: 1 })))).toEqual([0, [['Incremented', { amount: 1 }]]]);
  });
});
