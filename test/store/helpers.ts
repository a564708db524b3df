/** Shared set-up for the LMDB store tests: temporary data directories and stores closed after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { EventStoreOptions } from '../../src/store/index.js';
import { expectDenseLog as expectContractDenseLog, underTest } from './contract/support.js';

// One home for these: the contract suite's, which every store test uses.
export { event, expectCode } from './contract/support.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export function tempDir(prefix = 'thalo-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Open a store on a fresh directory (or `options.path`), closed after the test. */
export function openStore(options: Partial<EventStoreOptions> = {}): EventStore {
  const store = EventStore.open({ path: options.path ?? tempDir(), ...options });
  cleanups.push(() => store.close());
  return store;
}

/** Run `fn` after the current test (for processes and threads a test starts). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/**
 * The contract's check that the log is dense, on a store opened here (the LMDB tests beside the
 * contract, which check the same promise under threads and crashes).
 */
export function expectDenseLog(store: EventStore): Promise<void> {
  return expectContractDenseLog(underTest(store));
}
