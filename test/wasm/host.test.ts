import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModule, loadModule } from '../../src/wasm/index.js';
import type { AggregateInstance, AggregateModule, HandleOutcome } from '../../src/wasm/index.js';
import { buildFixture, compileWat } from '../fixtures/build-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'thalo-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function events(outcome: HandleOutcome): { type: string; data: unknown }[] {
  if (outcome.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(outcome)}`);
  return outcome.events.map((e) => ({ type: e.type, data: unpack(e.data) }));
}

describe('a module written by hand in WAT', () => {
  it('runs through the host: nothing AssemblyScript-specific is needed', async () => {
    const module = await compileModule(await compileWat('pinger'), 'pinger.wasm');
    expect(module.description).toEqual({ name: 'pinger', version: '1', commands: ['Ping'], events: ['Pinged'] });
    expect(module.supportsSnapshots).toBe(false);
    const instance = module.instantiate();
    const handle = instance.create('p1');
    const first = instance.handle(handle, 'Ping', {});
    expect(events(first)).toEqual([{ type: 'Pinged', data: 0 }]);
    instance.apply(handle, (first as { events: { type: string; data: Uint8Array }[] }).events);
    expect(events(instance.handle(handle, 'Ping', {}))).toEqual([{ type: 'Pinged', data: 1 }]);
    expect(() => instance.snapshot(handle)).toThrow(/does not support snapshots/);
  });
});

describe('the runaway fixture: faults are typed', () => {
  let module: AggregateModule;
  beforeAll(async () => {
    module = await loadModule(await buildFixture('runaway', dir));
  });

  it('gives GUEST_TRAP on a trap, poisons the instance, and a fresh instance works', () => {
    const instance = module.instantiate();
    const handle = instance.create('r');
    let error: { code?: string; message?: string } = {};
    try {
      instance.handle(handle, 'Trap', {});
    } catch (e) {
      error = e as typeof error;
    }
    expect(error.code).toBe('GUEST_TRAP');
    expect(error.message).toContain('runaway');
    expect(error.message).toContain('Trap');
    expect(instance.poisoned).toBe(true);
    expect(() => instance.handle(handle, 'Ok', {})).toThrow(/must be recreated/);
    const fresh = module.instantiate();
    expect(events(fresh.handle(fresh.create('r'), 'Ok', {}))).toEqual([{ type: 'Done', data: {} }]);
  });
});

describe('the examples through the host', () => {
  const modules = new Map<string, AggregateModule>();
  beforeAll(async () => {
    for (const name of ['counter', 'bank_account', 'todos']) modules.set(name, await loadModule(join('modules', `${name}.wasm`)));
  });

  /** Given these commands were accepted (their events applied), when `command`, then the outcome. */
  function given(instance: AggregateInstance, handle: number, commands: [string, unknown][]): void {
    for (const [name, payload] of commands) {
      const outcome = instance.handle(handle, name, payload);
      if (outcome.kind !== 'events') throw new Error(`given ${name} was rejected: ${outcome.code}`);
      instance.apply(handle, outcome.events);
    }
  }

  it('counter: Increment emits Incremented; a rebuilt state answers the same', () => {
    const instance = modules.get('counter')!.instantiate();
    const h = instance.create('c');
    const outcome = instance.handle(h, 'Increment', { amount: 10 });
    expect(events(outcome)).toEqual([{ type: 'Incremented', data: { amount: 10 } }]);
    instance.apply(h, (outcome as { events: never[] }).events);
    const snapshot = unpack(instance.snapshot(h));
    expect(snapshot).toEqual({ count: 10 });
    const rebuilt = instance.create('c');
    instance.apply(rebuilt, (outcome as { events: never[] }).events);
    expect(unpack(instance.snapshot(rebuilt))).toEqual(snapshot);
  });

  it('bank_account: rejections carry their codes', () => {
    const instance = modules.get('bank_account')!.instantiate();
    const h = instance.create('acc');
    const reject = (name: string, payload: unknown) => {
      const outcome = instance.handle(h, name, payload);
      return outcome.kind === 'rejected' ? outcome.code : 'accepted';
    };
    expect(reject('Deposit', { amount: 5 })).toBe('ACCOUNT_NOT_OPEN');
    given(instance, h, [['OpenAccount', { initial_balance: 50 }], ['Deposit', { amount: 25 }]]);
    expect(reject('OpenAccount', { initial_balance: 1 })).toBe('ACCOUNT_ALREADY_OPEN');
    expect(reject('Withdraw', { amount: 76 })).toBe('INSUFFICIENT_FUNDS');
    expect(reject('Withdraw', { amount: 0 })).toBe('INVALID_AMOUNT');
    expect(events(instance.handle(h, 'Withdraw', { amount: 75 }))).toEqual([{ type: 'Withdrawn', data: { amount: 75 } }]);
    // snapshot → restore equals the replayed state
    const restored = instance.restore('acc', instance.snapshot(h));
    expect(unpack(instance.snapshot(restored))).toEqual({ open: true, balance: 75 });
  });

  it('todos: several event types and string state survive a snapshot', () => {
    const instance = modules.get('todos')!.instantiate();
    const h = instance.create('list');
    given(instance, h, [
      ['AddTodo', { id: 'a', title: 'write the ABI ✓' }],
      ['AddTodo', { id: 'b', title: 'x'.repeat(5_000) }],
      ['RenameTodo', { id: 'a', title: 'write docs/abi.md' }],
      ['CompleteTodo', { id: 'a' }],
      ['RemoveTodo', { id: 'b' }],
    ]);
    const outcome = instance.handle(h, 'CompleteTodo', { id: 'a' });
    expect(outcome).toMatchObject({ kind: 'rejected', code: 'TODO_ALREADY_COMPLETED' });
    expect(instance.handle(h, 'RenameTodo', { id: 'b', title: 'gone' })).toMatchObject({ kind: 'rejected', code: 'TODO_NOT_FOUND' });
    const restored = instance.restore('list', instance.snapshot(h));
    expect(unpack(instance.snapshot(restored))).toEqual({ items: { a: { title: 'write docs/abi.md', done: true } } });
  });

  it('bad input gives a clear error or rejection, never a host crash', () => {
    const instance = modules.get('bank_account')!.instantiate();
    const h = instance.create('bad');
    given(instance, h, [['OpenAccount', { initial_balance: 1 }]]);
    expect(instance.handle(h, 'Deposit', { amount: 'ten' })).toMatchObject({ kind: 'rejected', code: 'INVALID_PAYLOAD', message: expect.stringContaining('amount must be an integer') });
    expect(instance.handle(h, 'Deposit', {})).toMatchObject({ kind: 'rejected', code: 'INVALID_PAYLOAD' });
    expect(instance.handle(h, 'Deposit', [1, 2, 3])).toMatchObject({ kind: 'rejected', code: 'INVALID_PAYLOAD' });
    expect(() => instance.handle(h, 'Explode', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_COMMAND' }));
    expect(() => instance.handle(h, 'Deposit', { amount: 1, pad: 'x'.repeat(1024 * 1024) })).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(() => instance.create('\ud800')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // A 1 MiB payload under a larger limit reaches the guest, which grows its memory for it.
    const roomy = modules.get('bank_account')!.instantiate({ maxPayloadBytes: 4 * 1024 * 1024 });
    const h2 = roomy.create('big');
    given(roomy, h2, [['OpenAccount', { initial_balance: 1 }]]);
    expect(events(roomy.handle(h2, 'Deposit', { amount: 2, note: 'y'.repeat(1024 * 1024) }))).toEqual([{ type: 'Deposited', data: { amount: 2 } }]);
    expect(roomy.poisoned).toBe(false);
  });
});
