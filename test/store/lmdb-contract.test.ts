/**
 * The event store contract (test/store/contract/) against `EventStore`, the LMDB store: each
 * store on a fresh temporary data directory, reopened on the same directory; once as the engine's
 * process opens it and once as its workers do, committing small transactions on their own thread
 * (`commitOnThread`). What only LMDB promises (the lock, threads of one process, the sparse index
 * and format 1, damage, a full disk, pruning of command ids) is tested in the other files of this
 * folder.
 */
import { EventStore } from '../../src/store/index.js';
import type { EventStoreContract, EventStoreOptions } from '../../src/store/index.js';
import { describeEventStoreContract } from './contract/index.js';
import { tempDir } from './helpers.js';

const openedWith = new WeakMap<EventStoreContract, EventStoreOptions>();

function open(options: EventStoreOptions): EventStore {
  const store = EventStore.open(options);
  openedWith.set(store, options);
  return store;
}

describeEventStoreContract('LMDB', {
  create: (options) => open({ path: tempDir(), ...options }),
  reopen: (store) => open(openedWith.get(store)!),
});

describeEventStoreContract('LMDB, committing on its own thread', {
  create: (options) => open({ path: tempDir(), commitOnThread: true, ...options }),
  reopen: (store) => open(openedWith.get(store)!),
});
