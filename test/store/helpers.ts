/** Shared set-up for store tests: temporary data directories and stores closed after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterEach, expect } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { EventStoreOptions, NewEvent } from '../../src/store/index.js';

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

/** An event whose data is `value` in msgpack. */
export function event(type: string, value: unknown = null): NewEvent {
  return { type, data: pack(value) };
}

/** Expect `promise` (or `fn`) to fail with a ThaloError of `code`; returns the error. */
export async function expectCode(promiseOrFn: Promise<unknown> | (() => unknown), code: string): Promise<{ code: string; message: string; data?: unknown }> {
  let error: unknown;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected ${code}`).toBeDefined();
  expect((error as { code?: string }).code, (error as Error).message).toBe(code);
  return error as { code: string; message: string; data?: unknown };
}

/** The log is positions 1..N and every stream's seqs are 1..n, in position order. */
export function expectDenseLog(store: EventStore): void {
  const all = store.readAll();
  expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
  expect(store.lastPosition()).toBe(all.length);
  const seqs = new Map<string, number>();
  for (const e of all) {
    const expected = (seqs.get(e.stream) ?? 0) + 1;
    expect(e.seq, `seq of position ${e.position} in ${e.stream}`).toBe(expected);
    seqs.set(e.stream, expected);
  }
  for (const [stream, version] of seqs) expect(store.streamVersion(stream)).toBe(version);
}
