/**
 * What the contract suite works with: the store as a promise-returning view (`StoreUnderTest`),
 * events, and the checks shared by its parts. Nothing here knows how a store keeps its events.
 */
import { pack } from 'msgpackr';
import { expect } from 'vitest';
import type { EventStoreContract, NewEvent } from '../../../src/store/index.js';

/**
 * The store as the suite calls it: every method returns a promise, and a method that throws
 * rejects instead. The LMDB store reads synchronously, a store over the network cannot; awaiting
 * every call lets one suite check both without a word changed.
 */
export type StoreUnderTest = {
  [K in keyof EventStoreContract]: (...args: Parameters<EventStoreContract[K]>) => Promise<Awaited<ReturnType<EventStoreContract[K]>>>;
};

/** Every method of the contract: a method added there fails to compile here until the view has it. */
const METHODS: Record<keyof EventStoreContract, true> = {
  append: true,
  appendBatch: true,
  findCommand: true,
  readStream: true,
  readAll: true,
  lastPosition: true,
  streamVersion: true,
  listStreams: true,
  getCheckpoint: true,
  setCheckpoint: true,
  advanceCheckpoint: true,
  listCheckpoints: true,
  deleteCheckpoint: true,
  getSnapshot: true,
  putSnapshot: true,
  close: true,
};

/**
 * `store` seen through `StoreUnderTest`. Each call reaches the store at once (not on a later
 * tick), so calls made one after another reach it in that order, as the promises about calls in
 * flight need.
 */
export function underTest(store: EventStoreContract): StoreUnderTest {
  const view: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of Object.keys(METHODS) as (keyof EventStoreContract)[]) {
    const call = (store[method] as (...args: unknown[]) => unknown).bind(store);
    view[method] = (...args) => {
      try {
        return Promise.resolve(call(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return view as unknown as StoreUnderTest;
}

/** The settings every store takes, which some promises are checked with. Absent: the defaults. */
export interface ContractStoreOptions {
  /** How long command ids are remembered, in ms (default 24 h). */
  idempotencyWindowMs?: number;
  /** Events per append request (default 1,000). */
  maxEventsPerAppend?: number;
  /** Bytes of one event's data (default 1 MiB). */
  maxEventBytes?: number;
  /** Bytes of one event's metadata (default 16 KiB). */
  maxMetadataBytes?: number;
}

/** What each part of the suite is given. */
export interface ContractContext {
  /** A new, empty store. */
  open(options?: ContractStoreOptions): Promise<StoreUnderTest>;
  /** Closes `store` and opens its data again. */
  reopen(store: StoreUnderTest): Promise<StoreUnderTest>;
}

/** An event whose data is `value` in msgpack. */
export function event(type: string, value: unknown = null): NewEvent {
  return { type, data: pack(value) };
}

/** An event of `size` bytes of data. */
export function sized(size: number, type = 'Padded'): NewEvent {
  return { type, data: new Uint8Array(size).fill(0xc0) };
}

/** Expect `promise` (or `fn`) to fail with a ThaloError of `code`; returns the error. */
export async function expectCode(
  promiseOrFn: Promise<unknown> | (() => unknown),
  code: string,
): Promise<{ code: string; message: string; data?: unknown }> {
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

/**
 * The log is positions 1..N, `lastPosition` is N, every stream's seqs are 1..n in position
 * order, and `streamVersion` is each stream's n.
 */
export async function expectDenseLog(store: StoreUnderTest): Promise<void> {
  const all = await store.readAll();
  expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
  expect(await store.lastPosition()).toBe(all.length);
  const seqs = new Map<string, number>();
  for (const e of all) {
    const expected = (seqs.get(e.stream) ?? 0) + 1;
    expect(e.seq, `seq of position ${e.position} in ${e.stream}`).toBe(expected);
    seqs.set(e.stream, expected);
  }
  for (const [stream, version] of seqs) expect(await store.streamVersion(stream)).toBe(version);
}

/** The types of `events`, in order. */
export function typesOf(events: { type: string }[]): string[] {
  return events.map((e) => e.type);
}
