/**
 * The event store contract as a test suite: every promise of `EventStoreContract`
 * (src/store/contract.ts), checked through the interface alone, so that every store runs the
 * same suite unchanged. test/store/lmdb-contract.test.ts runs it against LMDB.
 *
 * @example
 *   // A store of a later issue (names for illustration); LMDB's is test/store/lmdb-contract.test.ts.
 *   describeEventStoreContract('PostgreSQL', {
 *     create: (options) => PostgresEventStore.open({ schema: freshSchema(), ...options }),
 *     reopen: (store) => PostgresEventStore.open(optionsOf(store)),
 *   });
 */
import { afterEach, describe } from 'vitest';
import type { EventStoreContract } from '../../../src/store/index.js';
import { describeAppends } from './appends.js';
import { describeCheckpoints } from './checkpoints.js';
import { describeIdempotency } from './idempotency.js';
import { describeInput } from './input.js';
import { describeLifecycle } from './lifecycle.js';
import { describeReads } from './reads.js';
import { describeSnapshots } from './snapshots.js';
import { describeStreamList } from './streams.js';
import { underTest } from './support.js';
import type { ContractContext, ContractStoreOptions, StoreUnderTest } from './support.js';

export type { ContractContext, ContractStoreOptions, StoreUnderTest };

/** How the suite gets stores. It closes every store it got after each test; the factory removes their data. */
export interface EventStoreFactory {
  /** A new, empty store with `options`. */
  create(options: ContractStoreOptions): EventStoreContract | Promise<EventStoreContract>;
  /** A new handle on the data of `store`, which the suite has closed, with the options it was created with. */
  reopen(store: EventStoreContract): EventStoreContract | Promise<EventStoreContract>;
}

/** Declares the contract suite for the store that `factory` makes, under `name`. */
export function describeEventStoreContract(name: string, factory: EventStoreFactory): void {
  describe(`${name}: the event store contract`, () => {
    const opened: EventStoreContract[] = [];
    const stores = new WeakMap<StoreUnderTest, EventStoreContract>();

    afterEach(async () => {
      for (const store of opened.splice(0).reverse()) await store.close();
    });

    function track(store: EventStoreContract): StoreUnderTest {
      opened.push(store);
      const view = underTest(store);
      stores.set(view, store);
      return view;
    }

    const context: ContractContext = {
      open: async (options = {}) => track(await factory.create(options)),
      reopen: async (view) => {
        const store = stores.get(view);
        if (store === undefined) throw new Error('reopen takes a store that open or reopen returned');
        await store.close();
        return track(await factory.reopen(store));
      },
    };

    describeAppends(context);
    describeInput(context);
    describeIdempotency(context);
    describeReads(context);
    describeStreamList(context);
    describeCheckpoints(context);
    describeSnapshots(context);
    describeLifecycle(context);
  });
}
