// The example aggregates, given / when / then through the public test kit (thalo-node/testing),
// each rebuilt from its events and from its snapshot, which must answer every later command alike.
// The counter and the bank account run against both builds, AssemblyScript (modules/<name>) and
// Rust (modules/rust/<name>), and each build rebuilds the other's events and snapshots.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAggregate } from '../../src/testing/index.js';
import type { AggregateUnderTest, Given, TestEvent } from '../../src/testing/index.js';
import { loadModule } from '../../src/wasm/index.js';
import type { AggregateModule, GuestEvent } from '../../src/wasm/index.js';
import { exampleBuilds } from '../rust-toolchain.js';
import { Given as ScenarioGiven, given } from './scenario.js';

const builds = exampleBuilds();
const modules: Record<string, AggregateUnderTest> = {};
/** The counter and the bank account of each build: built[language][name], through the kit and as modules. */
const built: Record<string, Record<string, AggregateUnderTest>> = {};
const loaded: Record<string, Record<string, AggregateModule>> = {};
beforeAll(async () => {
  for (const name of ['todos', 'inventory']) modules[name] = await loadAggregate(`modules/${name}.wasm`);
  for (const [language, fileOf] of builds) {
    built[language] = {};
    loaded[language] = {};
    for (const name of ['counter', 'bank_account']) {
      built[language]![name] = await loadAggregate(fileOf(name));
      loaded[language]![name] = await loadModule(fileOf(name));
    }
  }
});

/** Run `commands` from a fresh state, keeping the accepted ones' events (rejected ones write nothing). */
function after(module: AggregateUnderTest, commands: [string, unknown][]): Given {
  const state = module.given();
  for (const [name, payload] of commands) {
    const { outcome } = state.when(name, payload);
    if ('events' in outcome) state.when(name, payload).thenEvents(...outcome.events);
  }
  return state;
}

for (const [language] of builds) {
  // Read when the tests run: the modules load in beforeAll.
  const examples = () => built[language]!;

  describe(`counter (${language})`, () => {
    it('when Increment, then Incremented with the amount', () => {
      examples()
        .counter!.given()
        .when('Increment', { amount: 3 })
        .thenEvents(['Incremented', { amount: 3 }]);
    });

    it('given Incremented 2 and 5, the count is 7', () => {
      expect(
        examples()
          .counter!.given(['Incremented', { amount: 2 }], ['Incremented', { amount: 5 }])
          .state(),
      ).toEqual({ count: 7 });
    });

    it('rejects an amount that is not positive', () => {
      examples().counter!.given().when('Increment', { amount: 0 }).thenRejected('INVALID_AMOUNT', null);
      examples().counter!.given().when('Increment', { amount: -4 }).thenRejected('INVALID_AMOUNT');
    });

    it('rebuilds alike from events and from a snapshot', () => {
      const commands = Array.from({ length: 300 }, (_, i): [string, unknown] => ['Increment', { amount: (i % 7) + 1 }]);
      expect(after(examples().counter!, commands).snapshotRoundTrip(['Increment', { amount: 1 }])).toEqual({ count: 1197 });
    });
  });

  describe(`bank_account (${language})`, () => {
    const opened = (balance: number): TestEvent => ['AccountOpened', { initial_balance: balance }];

    it('when OpenAccount, then AccountOpened', () => {
      examples().bank_account!.given().when('OpenAccount', { initial_balance: 100 }).thenEvents(opened(100));
    });

    it('rejects acting on an account that is not open', () => {
      examples().bank_account!.given().when('Deposit', { amount: 5 }).thenRejected('ACCOUNT_NOT_OPEN');
      examples().bank_account!.given().when('Withdraw', { amount: 5 }).thenRejected('ACCOUNT_NOT_OPEN');
    });

    it('given an open account, OpenAccount is rejected', () => {
      examples().bank_account!.given(opened(0)).when('OpenAccount', { initial_balance: 1 }).thenRejected('ACCOUNT_ALREADY_OPEN');
    });

    it('given 50 opened and 25 deposited, withdrawing 76 is rejected with the balance and 75 is not', () => {
      const state = examples().bank_account!.given(opened(50), ['Deposited', { amount: 25 }]);
      const rejection = state.when('Withdraw', { amount: 76 }).thenRejected('INSUFFICIENT_FUNDS', { balance: 75, requested: 76 });
      expect(rejection.message).toBe('cannot withdraw 76 from a balance of 75');
      state.when('Withdraw', { amount: 75 }).thenEvents(['Withdrawn', { amount: 75 }]);
    });

    it('rejects amounts that are not positive', () => {
      const state = examples().bank_account!.given(opened(10));
      state.when('Deposit', { amount: 0 }).thenRejected('INVALID_AMOUNT');
      state.when('Withdraw', { amount: -1 }).thenRejected('INVALID_AMOUNT');
      examples().bank_account!.given().when('OpenAccount', { initial_balance: -1 }).thenRejected('INVALID_AMOUNT');
    });

    it('rebuilds alike from events and from a snapshot', () => {
      const commands: [string, unknown][] = [['OpenAccount', { initial_balance: 10 }]];
      for (let i = 0; i < 200; i++) commands.push([i % 3 === 2 ? 'Withdraw' : 'Deposit', { amount: (i * 37) % 50 }]);
      after(examples().bank_account!, commands).snapshotRoundTrip(
        ['Withdraw', { amount: 1_000_000 }],
        ['Withdraw', { amount: 1 }],
        ['OpenAccount', { initial_balance: 1 }],
      );
    });
  });
}

describe('todos', () => {
  it('when AddTodo, then TodoAdded with id and title', () => {
    modules
      .todos!.given()
      .when('AddTodo', { id: 'a', title: 'write the ABI' })
      .thenEvents(['TodoAdded', { id: 'a', title: 'write the ABI' }]);
  });

  it('given a todo, renames, completes and removes it, refusing what does not make sense', () => {
    const state = modules.todos!.given(['TodoAdded', { id: 'a', title: 'one' }]);
    state.when('AddTodo', { id: 'a', title: 'again' }).thenRejected('TODO_EXISTS');
    state.when('RenameTodo', { id: 'a', title: 'two' }).thenEvents(['TodoRenamed', { id: 'a', title: 'two' }]);
    state.when('RenameTodo', { id: 'b', title: 'two' }).thenRejected('TODO_NOT_FOUND');
    state.when('AddTodo', { id: '', title: 'x' }).thenRejected('INVALID_TODO');
    state.when('AddTodo', { id: 'c', title: '' }).thenRejected('INVALID_TODO');
    state.when('CompleteTodo', { id: 'a' }).thenEvents(['TodoCompleted', { id: 'a' }]);
    state.when('CompleteTodo', { id: 'a' }).thenRejected('TODO_ALREADY_COMPLETED');
    state.when('RemoveTodo', { id: 'a' }).thenEvents(['TodoRemoved', { id: 'a' }]);
  });

  it('keeps non-ASCII ids and titles byte for byte', () => {
    const state = modules.todos!.given();
    state.when('AddTodo', { id: 'ü-1', title: 'Grüße, 世界 🌍' }).thenEvents(['TodoAdded', { id: 'ü-1', title: 'Grüße, 世界 🌍' }]);
    expect(state.state()).toEqual({ items: { 'ü-1': { title: 'Grüße, 世界 🌍', done: false } } });
    state.when('CompleteTodo', { id: 'ü-1' }).thenEvents(['TodoCompleted', { id: 'ü-1' }]);
  });

  it('rebuilds alike from events and from a snapshot, with many string-heavy items', () => {
    const commands: [string, unknown][] = [];
    for (let i = 0; i < 400; i++) commands.push(['AddTodo', { id: `todo-${i}`, title: `title ${i} `.repeat((i % 20) + 1) }]);
    for (let i = 0; i < 400; i += 3) commands.push(['CompleteTodo', { id: `todo-${i}` }]);
    for (let i = 0; i < 400; i += 5) commands.push(['RenameTodo', { id: `todo-${i}`, title: `renamed ${i}` }]);
    for (let i = 0; i < 400; i += 7) commands.push(['RemoveTodo', { id: `todo-${i}` }]);
    after(modules.todos!, commands).snapshotRoundTrip(
      ['CompleteTodo', { id: 'todo-3' }],
      ['CompleteTodo', { id: 'todo-4' }],
      ['RenameTodo', { id: 'todo-7', title: 'x' }],
      ['AddTodo', { id: 'todo-14', title: 'back' }],
    );
  });
});

describe('inventory', () => {
  const received = (quantity: number, unit_cost: number, lot: string | null = null): TestEvent => [
    'StockReceived',
    { quantity, unit_cost, lot },
  ];
  const line = (sku: string, quantity: number) => ({ sku, quantity });

  it('ReceiveStock: the lot is optional, absent or nil, and written as nil when there is none', () => {
    const inventory = modules.inventory!;
    inventory
      .given()
      .when('ReceiveStock', { quantity: 5, unit_cost: 2.5, lot: 'L1' })
      .thenEvents(received(5, 2.5, 'L1'));
    inventory.given().when('ReceiveStock', { quantity: 5, unit_cost: 2.5 }).thenEvents(received(5, 2.5));
    inventory.given().when('ReceiveStock', { quantity: 5, unit_cost: 2.5, lot: null }).thenEvents(received(5, 2.5));
    inventory.given().when('ReceiveStock', { quantity: 0, unit_cost: 1 }).thenRejected('INVALID_QUANTITY', null);
    inventory
      .given()
      .when('ReceiveStock', { quantity: 1, unit_cost: 1, lot: 7 })
      .thenFails('INVALID_PAYLOAD', 'ReceiveStock: lot must be a string');
  });

  it('keeps a float average cost and the lots as an array', () => {
    const state = modules.inventory!.given(received(4, 1.5, 'A'), received(6, 3, null), received(10, 0.25, 'B'));
    expect(state.state()).toEqual({
      on_hand: 20,
      average_cost: (4 * 1.5 + 6 * 3 + 10 * 0.25) / 20,
      lots: ['A', 'B'],
      reservations: {},
      discontinued: false,
    });
  });

  it('ReserveStock: order lines as an array, OUT_OF_STOCK with what is available, the note optional', () => {
    const state = modules.inventory!.given(received(5, 2));
    const lines = [line('red', 2), line('blue', 3)];
    state
      .when('ReserveStock', { order_id: 'o1', lines: [line('red', 4), line('blue', 2)] })
      .thenRejected('OUT_OF_STOCK', { available: 5, requested: 6 });
    state.when('ReserveStock', { order_id: 'o1', lines: [] }).thenRejected('INVALID_QUANTITY');
    state.when('ReserveStock', { order_id: 'o1', lines, note: null }).thenEvents(['StockReserved', { order_id: 'o1', quantity: 5, lines }]);
    state.when('ReserveStock', { order_id: 'o1', lines }).thenRejected('ALREADY_RESERVED');
    state
      .when('ReserveStock', { order_id: 'o2', lines: [line('red', 1)], note: 'rush' })
      .thenRejected('OUT_OF_STOCK', { available: 0, requested: 1 });
  });

  it('names a wrong type nested in the payload by its path', () => {
    const state = modules.inventory!.given(received(50, 2));
    const wrong = state.when('ReserveStock', { order_id: 'o1', lines: [line('a', 1), line('b', 1), { sku: 'c', quantity: '2' }] });
    wrong.thenFails('INVALID_PAYLOAD', 'ReserveStock: lines[2].quantity must be an integer');
    state
      .when('ReserveStock', { order_id: 'o1', lines: [line('a', 1), { quantity: 1 }] })
      .thenFails('INVALID_PAYLOAD', 'lines[1].sku must be a string');
    state.when('ReserveStock', { order_id: 'o1', lines: { sku: 'a' } }).thenFails('INVALID_PAYLOAD', 'lines must be an array');
    state.when('ReserveStock', { order_id: 'o1', lines: [line('a', 1), 5] }).thenFails('INVALID_PAYLOAD', 'lines[1] must be a map');
    state.when('ReserveStock', { order_id: 'o1', lines: [line('a', 1)], note: 3 }).thenFails('INVALID_PAYLOAD', 'note must be a string');
  });

  it('ReleaseReservation: releases what an order holds; releasing twice is no events, not a failure', () => {
    const state = modules.inventory!.given(received(5, 2), ['StockReserved', { order_id: 'o1', quantity: 4, lines: [line('a', 4)] }]);
    state.when('ReserveStock', { order_id: 'o2', lines: [line('a', 2)] }).thenRejected('OUT_OF_STOCK', { available: 1, requested: 2 });
    state.when('ReleaseReservation', { order_id: 'o1' }).thenEvents(['ReservationReleased', { order_id: 'o1', quantity: 4 }]);
    state.when('ReleaseReservation', { order_id: 'o1' }).thenNoEvents();
    state
      .when('ReserveStock', { order_id: 'o2', lines: [line('a', 2)] })
      .thenEvents(['StockReserved', { order_id: 'o2', quantity: 2, lines: [line('a', 2)] }]);
  });

  it('Discontinue: the reason is optional; afterwards every command is rejected', () => {
    const inventory = modules.inventory!;
    inventory
      .given()
      .when('Discontinue', {})
      .thenEvents(['Discontinued', { reason: null }]);
    inventory
      .given()
      .when('Discontinue', { reason: null })
      .thenEvents(['Discontinued', { reason: null }]);
    const state = inventory
      .given(received(5, 2))
      .when('Discontinue', { reason: 'recalled' })
      .thenEvents(['Discontinued', { reason: 'recalled' }]);
    state.when('ReceiveStock', { quantity: 1, unit_cost: 1 }).thenRejected('DISCONTINUED');
    state.when('Discontinue', {}).thenRejected('DISCONTINUED');
  });

  it('rebuilds alike from events and from a snapshot: map, array, float, optional and boolean state', () => {
    const state = modules.inventory!.given(received(10, 1.25, 'L1'), received(3, 2, null));
    state
      .when('ReserveStock', { order_id: 'o1', lines: [line('a', 2)] })
      .thenEvents(['StockReserved', { order_id: 'o1', quantity: 2, lines: [line('a', 2)] }]);
    state
      .when('ReserveStock', { order_id: 'o2', lines: [line('a', 5), line('b', 1)] })
      .thenEvents(['StockReserved', { order_id: 'o2', quantity: 6, lines: [line('a', 5), line('b', 1)] }]);
    const snapshot = state.snapshotRoundTrip(
      ['ReserveStock', { order_id: 'o3', lines: [line('a', 6)] }],
      ['ReserveStock', { order_id: 'o3', lines: [line('a', 5)] }],
      ['ReleaseReservation', { order_id: 'o2' }],
    );
    expect(snapshot).toEqual({
      on_hand: 13,
      average_cost: (10 * 1.25 + 3 * 2) / 13,
      lots: ['L1'],
      reservations: { o1: 2, o2: 6 },
      discontinued: false,
    });
    state.when('Discontinue', {}).thenEvents(['Discontinued', { reason: null }]);
    expect(state.snapshotRoundTrip(['ReceiveStock', { quantity: 1, unit_cost: 1 }])).toMatchObject({ discontinued: true });
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
        const restored = new ScenarioGiven(replayed.instance, replayed.instance.restore('test', live.instance.snapshot(live.handle)));
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
