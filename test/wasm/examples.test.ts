// The example aggregates through the host wrapper, given / when / then, and rebuilt three ways
// (handle + apply as the engine does, replay of the stored events, snapshot + restore) that must
// answer every later command alike. The counter and the bank account run against both builds,
// AssemblyScript (modules/<name>) and Rust (modules/rust/<name>), and each build rebuilds the
// other's events and snapshots.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModule } from '../../src/wasm/index.js';
import type { AggregateModule, GuestEvent } from '../../src/wasm/index.js';
import { exampleBuilds } from '../rust-toolchain.js';
import { Given, emitted, given, rejected } from './scenario.js';

const builds = exampleBuilds();
/** modules[language][name] */
const loaded: Record<string, Record<string, AggregateModule>> = {};
beforeAll(async () => {
  for (const [language, fileOf] of builds) {
    loaded[language] = {};
    for (const name of ['counter', 'bank_account']) loaded[language]![name] = await loadModule(fileOf(name));
  }
  loaded.AssemblyScript!.todos = await loadModule(join('modules', 'todos.wasm'));
});

/**
 * Run `commands` against one state (rejected ones write nothing), then rebuild it by replaying
 * the events and by restoring its snapshot: all three must have the same snapshot and give the
 * same outcome to every probe.
 */
function rebuildsAlike(module: AggregateModule, commands: [string, unknown][], probes: [string, unknown][]): void {
  const live = given(module);
  const events: GuestEvent[] = [];
  for (const [name, payload] of commands) {
    const outcome = live.instance.handle(live.handle, name, payload);
    if (outcome.kind === 'events') {
      live.instance.apply(live.handle, outcome.events);
      events.push(...outcome.events);
    }
  }
  const replayed = new Given(live.instance, live.instance.create('test'));
  replayed.instance.apply(replayed.handle, events);
  const restored = new Given(live.instance, live.instance.restore('test', live.instance.snapshot(live.handle)));
  expect(replayed.snapshot()).toEqual(live.snapshot());
  expect(restored.snapshot()).toEqual(live.snapshot());
  for (const [name, payload] of probes) {
    const expected = live.when(name, payload);
    expect(replayed.when(name, payload)).toEqual(expected);
    expect(restored.when(name, payload)).toEqual(expected);
  }
}

for (const [language] of builds) {
  // Read when the tests run: the modules load in beforeAll.
  const modules = new Proxy({} as Record<string, AggregateModule>, { get: (_target, name: string) => loaded[language]![name] });

  describe(`counter (${language})`, () => {
    it('when Increment, then Incremented with the amount', () => {
      expect(given(modules.counter!).when('Increment', { amount: 3 })).toEqual(emitted(['Incremented', { amount: 3 }]));
    });

    it('given Incremented 2 and 5, the count is 7', () => {
      expect(given(modules.counter!, ['Incremented', { amount: 2 }], ['Incremented', { amount: 5 }]).snapshot()).toEqual({ count: 7 });
    });

    it('rejects an amount that is not positive', () => {
      expect(given(modules.counter!).when('Increment', { amount: 0 })).toMatchObject(rejected('INVALID_AMOUNT'));
      expect(given(modules.counter!).when('Increment', { amount: -4 })).toMatchObject(rejected('INVALID_AMOUNT'));
    });

    it('rebuilds alike from events and from a snapshot', () => {
      const commands = Array.from({ length: 300 }, (_, i): [string, unknown] => ['Increment', { amount: (i % 7) + 1 }]);
      rebuildsAlike(modules.counter!, commands, [['Increment', { amount: 1 }]]);
    });
  });

  describe(`bank_account (${language})`, () => {
    const opened = (balance: number): [string, unknown] => ['AccountOpened', { initial_balance: balance }];

    it('when OpenAccount, then AccountOpened', () => {
      expect(given(modules.bank_account!).when('OpenAccount', { initial_balance: 100 })).toEqual(emitted(opened(100)));
    });

    it('rejects acting on an account that is not open', () => {
      expect(given(modules.bank_account!).when('Deposit', { amount: 5 })).toMatchObject(rejected('ACCOUNT_NOT_OPEN'));
      expect(given(modules.bank_account!).when('Withdraw', { amount: 5 })).toMatchObject(rejected('ACCOUNT_NOT_OPEN'));
    });

    it('given an open account, OpenAccount is rejected', () => {
      expect(given(modules.bank_account!, opened(0)).when('OpenAccount', { initial_balance: 1 })).toMatchObject(
        rejected('ACCOUNT_ALREADY_OPEN'),
      );
    });

    it('given 50 opened and 25 deposited, withdrawing 76 is rejected and 75 is not', () => {
      const state = given(modules.bank_account!, opened(50), ['Deposited', { amount: 25 }]);
      expect(state.when('Withdraw', { amount: 76 })).toEqual({
        rejected: 'INSUFFICIENT_FUNDS',
        message: 'cannot withdraw 76 from a balance of 75',
        data: { balance: 75, requested: 76 },
      });
      expect(state.when('Withdraw', { amount: 75 })).toEqual(emitted(['Withdrawn', { amount: 75 }]));
    });

    it('rejects amounts that are not positive', () => {
      const state = given(modules.bank_account!, opened(10));
      expect(state.when('Deposit', { amount: 0 })).toMatchObject(rejected('INVALID_AMOUNT'));
      expect(state.when('Withdraw', { amount: -1 })).toMatchObject(rejected('INVALID_AMOUNT'));
      expect(given(modules.bank_account!).when('OpenAccount', { initial_balance: -1 })).toMatchObject(rejected('INVALID_AMOUNT'));
    });

    it('rebuilds alike from events and from a snapshot', () => {
      const commands: [string, unknown][] = [['OpenAccount', { initial_balance: 10 }]];
      for (let i = 0; i < 200; i++) commands.push([i % 3 === 2 ? 'Withdraw' : 'Deposit', { amount: (i * 37) % 50 }]);
      rebuildsAlike(modules.bank_account!, commands, [
        ['Withdraw', { amount: 1_000_000 }],
        ['Withdraw', { amount: 1 }],
        ['OpenAccount', { initial_balance: 1 }],
      ]);
    });
  });
}

describe('todos', () => {
  const modules = new Proxy({} as Record<string, AggregateModule>, { get: (_target, name: string) => loaded.AssemblyScript![name] });

  it('when AddTodo, then TodoAdded with id and title', () => {
    expect(given(modules.todos!).when('AddTodo', { id: 'a', title: 'write the ABI' })).toEqual(
      emitted(['TodoAdded', { id: 'a', title: 'write the ABI' }]),
    );
  });

  it('given a todo, renames, completes and removes it, refusing what does not make sense', () => {
    const state = given(modules.todos!, ['TodoAdded', { id: 'a', title: 'one' }]);
    expect(state.when('AddTodo', { id: 'a', title: 'again' })).toMatchObject(rejected('TODO_EXISTS'));
    expect(state.when('RenameTodo', { id: 'a', title: 'two' })).toEqual(emitted(['TodoRenamed', { id: 'a', title: 'two' }]));
    expect(state.when('RenameTodo', { id: 'b', title: 'two' })).toMatchObject(rejected('TODO_NOT_FOUND'));
    expect(state.when('CompleteTodo', { id: 'a' })).toEqual(emitted(['TodoCompleted', { id: 'a' }]));
    expect(state.when('RemoveTodo', { id: 'a' })).toEqual(emitted(['TodoRemoved', { id: 'a' }]));
    expect(state.when('AddTodo', { id: '', title: 'x' })).toMatchObject(rejected('INVALID_TODO'));
    expect(state.when('AddTodo', { id: 'c', title: '' })).toMatchObject(rejected('INVALID_TODO'));
    state.accept('CompleteTodo', { id: 'a' });
    expect(state.when('CompleteTodo', { id: 'a' })).toMatchObject(rejected('TODO_ALREADY_COMPLETED'));
  });

  it('keeps non-ASCII ids and titles byte for byte', () => {
    const state = given(modules.todos!);
    state.accept('AddTodo', { id: 'ü-1', title: 'Grüße, 世界 🌍' });
    expect(state.snapshot()).toEqual({ items: { 'ü-1': { title: 'Grüße, 世界 🌍', done: false } } });
    expect(state.when('CompleteTodo', { id: 'ü-1' })).toEqual(emitted(['TodoCompleted', { id: 'ü-1' }]));
  });

  it('rebuilds alike from events and from a snapshot, with many string-heavy items', () => {
    const commands: [string, unknown][] = [];
    for (let i = 0; i < 400; i++) commands.push(['AddTodo', { id: `todo-${i}`, title: `title ${i} `.repeat((i % 20) + 1) }]);
    for (let i = 0; i < 400; i += 3) commands.push(['CompleteTodo', { id: `todo-${i}` }]);
    for (let i = 0; i < 400; i += 5) commands.push(['RenameTodo', { id: `todo-${i}`, title: `renamed ${i}` }]);
    for (let i = 0; i < 400; i += 7) commands.push(['RemoveTodo', { id: `todo-${i}` }]);
    rebuildsAlike(modules.todos!, commands, [
      ['CompleteTodo', { id: 'todo-3' }],
      ['CompleteTodo', { id: 'todo-4' }],
      ['RenameTodo', { id: 'todo-7', title: 'x' }],
      ['AddTodo', { id: 'todo-14', title: 'back' }],
    ]);
  });
});

describe('the AssemblyScript and Rust builds rebuild each other', () => {
  const other = (language: string) => (language === 'Rust' ? 'AssemblyScript' : 'Rust');
  const cases: [string, [string, unknown][], [string, unknown][]][] = [
    [
      'counter',
      [
        ['Increment', { amount: 3 }],
        ['Increment', { amount: 2 ** 40 }],
        ['Increment', { amount: 4 }],
      ],
      [
        ['Increment', { amount: 1 }],
        ['Increment', { amount: 0 }],
      ],
    ],
    [
      'bank_account',
      [
        ['OpenAccount', { initial_balance: 50 }],
        ['Deposit', { amount: 2 ** 33 }],
        ['Withdraw', { amount: 2 ** 33 - 25 }],
        ['Withdraw', { amount: 1 }],
      ],
      [
        ['Withdraw', { amount: 76 }],
        ['Withdraw', { amount: 74 }],
        ['Deposit', { amount: -1 }],
        ['OpenAccount', { initial_balance: 1 }],
      ],
    ],
  ];
  for (const [name, commands, probes] of cases) {
    it(`${name}: events and a snapshot written by one build give the other the same state and answers`, (context) => {
      if (builds.length < 2) return context.skip();
      for (const [writer] of builds) {
        const reader = other(writer);
        const live = given(loaded[writer]![name]!);
        const events: GuestEvent[] = [];
        for (const [command, payload] of commands) events.push(...live.accept(command, payload));
        const replayed = given(loaded[reader]![name]!);
        replayed.instance.apply(replayed.handle, events);
        const restored = new Given(replayed.instance, replayed.instance.restore('test', live.instance.snapshot(live.handle)));
        expect(replayed.snapshot(), `${reader} replaying ${writer}'s events`).toEqual(live.snapshot());
        expect(restored.snapshot(), `${reader} restoring ${writer}'s snapshot`).toEqual(live.snapshot());
        for (const [command, payload] of probes) {
          expect(replayed.when(command, payload), `${reader} after ${writer}'s events: ${command}`).toEqual(live.when(command, payload));
          expect(restored.when(command, payload), `${reader} after ${writer}'s snapshot: ${command}`).toEqual(live.when(command, payload));
        }
      }
    });
  }
});
