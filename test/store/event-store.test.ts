/**
 * What only the LMDB store promises at its own API: the options of `EventStore.open`, and the
 * pruning of expired command ids from its databases. Every promise of the store contract
 * (appends, expected versions, command ids, reads, checkpoints, snapshots, close) is checked by
 * test/store/contract/, which lmdb-contract.test.ts runs against this store; concurrency across
 * threads, crashes, durability, the lock, the stream index and damage have their own files.
 */
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import { openDatabases } from '../../src/store/databases.js';
import { event, expectCode, openStore, tempDir } from './helpers.js';

describe('EventStore.open', () => {
  it('refuses bad options with INVALID_ARGUMENT naming the field', async () => {
    const path = tempDir();
    const bad: [object, string][] = [
      [{}, 'options.path'],
      [{ path, durability: 'fast' }, 'options.durability'],
      [{ path, lock: 'yes' }, 'options.lock'],
      [{ path, commitOnThread: 1 }, 'options.commitOnThread'],
      [{ path, idempotencyWindowMs: -1 }, 'options.idempotencyWindowMs'],
      [{ path, maxEventsPerAppend: 0 }, 'options.maxEventsPerAppend'],
      [{ path, maxEventBytes: 1.5 }, 'options.maxEventBytes'],
      [{ path, maxMetadataBytes: '16k' }, 'options.maxMetadataBytes'],
    ];
    for (const [options, field] of bad) {
      const error = await expectCode(() => EventStore.open(options as never), 'INVALID_ARGUMENT');
      expect(error.message).toContain(field);
    }
  });
});

describe('command ids past the window', () => {
  it('are deleted from commands and command-expiry by a later append transaction', async () => {
    const path = tempDir();
    const store = openStore({ path, idempotencyWindowMs: 0 }); // every record is past the window at once
    const first = await store.append('s', [event('1')], { commandId: 'cmd-1' });
    const again = await store.append('s', [event('1')], { commandId: 'cmd-1' });
    expect([first.duplicate, again.duplicate]).toEqual([false, false]);

    // Pruning runs inside an append at most once a second per store; a fresh store prunes on its
    // first append. Records from the same millisecond are not yet past a 0 ms window: let it tick.
    const last = again.events[0]!.timestamp;
    while (Date.now() <= last) {
      // busy-wait for the clock, not for another thread
    }
    const pruner = openStore({ path, lock: false, idempotencyWindowMs: 0 });
    await pruner.append('other', [event('1')]);
    const dbs = openDatabases(path);
    expect(dbs.commands.get('cmd-1')).toBeUndefined();
    expect([...dbs.commandExpiry.getKeys()]).toEqual([]);
    await dbs.root.close();
  });
});
