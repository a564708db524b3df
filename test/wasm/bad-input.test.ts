// Bad input gives a clear error or a rejection, never a crash of the host or a poisoned instance.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModule } from '../../src/wasm/index.js';
import type { AggregateModule } from '../../src/wasm/index.js';
import { emitted, given, rejected } from './scenario.js';

let bank: AggregateModule;
let todos: AggregateModule;
beforeAll(async () => {
  bank = await loadModule(join('modules', 'bank_account.wasm'));
  todos = await loadModule(join('modules', 'todos.wasm'));
});

const MiB = 1024 * 1024;
const open = () => given(bank, ['AccountOpened', { initial_balance: 100 }]);

function caught(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  throw new Error('expected an error');
}

describe('bad input', () => {
  it('a command the aggregate does not know: UNKNOWN_COMMAND naming it and the known ones', () => {
    const error = caught(() => open().when('Explode', {}));
    expect(error).toMatchObject({
      code: 'UNKNOWN_COMMAND',
      message: 'bank_account has no command "Explode" (it has: OpenAccount, Deposit, Withdraw)',
    });
  });

  it('fields of the wrong type: INVALID_PAYLOAD naming the field', () => {
    const state = open();
    expect(state.when('Deposit', { amount: 'ten' })).toEqual({
      rejected: 'INVALID_PAYLOAD',
      message: 'Deposit: amount must be an integer',
    });
    expect(state.when('Deposit', { amount: 1.5 })).toMatchObject(rejected('INVALID_PAYLOAD'));
    expect(state.when('Deposit', { amount: null })).toMatchObject(rejected('INVALID_PAYLOAD'));
    expect(state.when('Deposit', {})).toMatchObject(rejected('INVALID_PAYLOAD'));
    expect(given(todos).when('AddTodo', { id: 'a', title: 42 })).toEqual({
      rejected: 'INVALID_PAYLOAD',
      message: 'AddTodo: title must be a string',
    });
  });

  it('a payload that is not a map: INVALID_PAYLOAD', () => {
    const state = open();
    for (const payload of [[1, 2, 3], 'amount', 7, null, undefined, true]) {
      expect(state.when('Deposit', payload)).toMatchObject(rejected('INVALID_PAYLOAD'));
    }
    expect(state.instance.poisoned).toBe(false);
  });

  it('a payload that cannot be packed: INVALID_PAYLOAD', () => {
    const state = open();
    expect(caught(() => state.when('Deposit', { amount: 2n ** 80n }))).toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('a 1 MiB payload: PAYLOAD_TOO_LARGE under the default limit, handled under a larger one', () => {
    expect(caught(() => open().when('Deposit', { amount: 1, note: 'x'.repeat(MiB) }))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringMatching(/^bank_account Deposit: the payload takes \d+ bytes; the limit is 1048576$/),
    });
    const roomy = given(bank.instantiate({ maxPayloadBytes: 4 * MiB }), ['AccountOpened', { initial_balance: 1 }]);
    // The guest grows its memory for it, and the host's views follow.
    expect(roomy.when('Deposit', { amount: 2, note: 'y'.repeat(MiB) })).toEqual(emitted(['Deposited', { amount: 2 }]));
    expect(roomy.when('Deposit', { amount: 3 })).toEqual(emitted(['Deposited', { amount: 3 }]));
  });

  it('a 1 MiB string in state survives handle, apply and a snapshot', () => {
    const state = given(todos.instantiate({ maxPayloadBytes: 4 * MiB, maxEventBytes: 4 * MiB }));
    const title = 'é'.repeat(MiB / 2);
    state.accept('AddTodo', { id: 'big', title });
    expect(state.snapshot()).toEqual({ items: { big: { title, done: false } } });
  });

  it('ids that are not well-formed UTF-16 (lone surrogates): INVALID_ARGUMENT', () => {
    const instance = bank.instantiate();
    expect(caught(() => instance.create('acc-\ud800'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('well-formed'),
    });
    expect(caught(() => instance.restore('\udfff', new Uint8Array([0x80])))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(instance.poisoned).toBe(false);
  });

  it('strings with lone surrogates inside a payload: INVALID_PAYLOAD before the guest runs (no UTF-8 form)', () => {
    // The engine refuses such a payload at its edge (INVALID_PAYLOAD); the instance refuses to
    // encode it too, rather than send the guest a replacement character or bytes that are not UTF-8.
    const state = given(todos);
    expect(caught(() => state.when('AddTodo', { id: 'a', title: 'half \ud83d' }))).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringContaining('lone surrogate'),
    });
    expect(state.instance.poisoned).toBe(false);
    expect(state.when('AddTodo', { id: 'b', title: 'fine' })).toEqual(emitted(['TodoAdded', { id: 'b', title: 'fine' }]));
  });

  it('deeply nested payloads: the guest skips them without recursing; too deep to pack is INVALID_PAYLOAD', () => {
    const nest = (depth: number) => {
      let deep: unknown = 1;
      for (let i = 0; i < depth; i++) deep = [deep];
      return deep;
    };
    const state = open();
    expect(state.when('Deposit', { amount: 5, deep: nest(1_000) })).toEqual(emitted(['Deposited', { amount: 5 }]));
    expect(caught(() => state.when('Deposit', { amount: 5, deep: nest(200_000) }))).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(state.instance.poisoned).toBe(false);
  });

  it('unknown handles are a GUEST_FAULT, not a rejection', () => {
    const instance = bank.instantiate();
    expect(caught(() => instance.handle(12345, 'Deposit', { amount: 1 }))).toMatchObject({
      code: 'GUEST_FAULT',
      message: expect.stringContaining('(the module logged: no state for handle 12345)'),
    });
    expect(caught(() => instance.apply(12345, [{ type: 'Deposited', data: new Uint8Array([0x80]) }]))).toMatchObject({
      code: 'GUEST_FAULT',
    });
  });

  it('snapshot bytes that are not a snapshot: GUEST_FAULT from restore', () => {
    const instance = bank.instantiate();
    expect(caught(() => instance.restore('acc', new Uint8Array([0xc1, 0xff])))).toMatchObject({
      code: 'GUEST_FAULT',
      message: expect.stringMatching(
        /^bank_account: thalo_restore could not restore .*\(the module logged: a snapshot must be a msgpack map\)$/,
      ),
    });
  });
});
