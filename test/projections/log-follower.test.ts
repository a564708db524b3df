/**
 * The one loop that follows the log (`src/projections/log-follower.ts`), over an in-memory log:
 * the promises that the live subscription and the projections both rest on.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerResponse } from 'node:http';
import { LogFollower, Projection } from '../../src/projections/index.js';
import { LogSubscription } from '../../src/server/log-subscription.js';
import type { EventLog } from '../../src/protocol/event-log.js';
import type { StoredEvent } from '../../src/store/types.js';

/** An event log in memory that counts its reads and can fail one. */
function memoryLog() {
  const events: StoredEvent[] = [];
  const listeners = new Set<(position: number) => void>();
  const state = { reads: [] as number[], failAt: undefined as number | undefined };
  const log: EventLog = {
    readAll: ({ from = 1, limit = Infinity } = {}) => {
      state.reads.push(from);
      if (state.failAt !== undefined && from <= state.failAt && state.failAt < from + limit) throw new Error(`damaged at ${state.failAt}`);
      return events.slice(from - 1, from - 1 + limit);
    },
    lastPosition: () => events.length,
    getCheckpoint: () => undefined,
    setCheckpoint: async () => undefined,
    advanceCheckpoint: async (_name, position) => position,
    deleteCheckpoint: async () => false,
    listCheckpoints: () => [],
    onCommit: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onClose: () => () => undefined,
  };
  const append = (n: number) => {
    for (let i = 0; i < n; i++) {
      const position = events.length + 1;
      events.push({
        position,
        stream: 's-1',
        seq: position,
        id: `e${position}`,
        type: 'T',
        data: new Uint8Array(),
        timestamp: 0,
        metadata: {},
      });
    }
    for (const listener of listeners) listener(events.length);
  };
  return { log, append, state, listeners };
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function until(check: () => boolean): Promise<void> {
  return vi.waitFor(
    () => {
      if (!check()) throw new Error('not yet');
    },
    { timeout: 5_000, interval: 1 },
  );
}

describe('LogFollower', () => {
  it('reads nothing more while a page is in hand (a slow socket or read model holds the loop)', async () => {
    const { log, append, state } = memoryLog();
    append(10);
    const pages: number[][] = [];
    const held = gate();
    const follower = new LogFollower(
      log,
      {
        page: async (events) => {
          pages.push(events.map((e) => e.position));
          if (pages.length === 1) await held.promise;
        },
        failed: () => undefined,
      },
      { from: 1, pageSize: 4, maxBytes: 1 << 20 },
    );
    follower.start();
    await until(() => pages.length === 1);
    append(5);
    // Commits arrive while the first page is held: no read happens until it is let go.
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.reads).toEqual([1]);
    held.open();
    await until(() => follower.next === 16);
    expect(pages).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [13, 14, 15],
    ]);
    await follower.stop();
  });

  it('follows live commits after the catch-up without a poll, and misses none that land during a page', async () => {
    const { log, append, listeners } = memoryLog();
    append(3);
    const seen: number[] = [];
    let first = true;
    const follower = new LogFollower(
      log,
      {
        page: (events) => {
          seen.push(...events.map((e) => e.position));
          // A commit lands while this page is handled: its notice must not be lost.
          if (first) {
            first = false;
            append(2);
          }
        },
        failed: () => undefined,
      },
      { from: 1, pageSize: 100, maxBytes: 1 << 20 },
    );
    follower.start();
    await until(() => seen.length === 5);
    append(1);
    await until(() => seen.length === 6);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    await follower.stop();
    // The follower unsubscribed from the commit notices.
    expect(listeners.size).toBe(0);
  });

  it('jumps on a restart between two pages, never inside one, and tells the handler first', async () => {
    const { log, append } = memoryLog();
    append(8);
    const calls: string[] = [];
    const held = gate();
    const follower = new LogFollower(
      log,
      {
        page: async (events) => {
          calls.push(`page ${events[0]!.position}-${events[events.length - 1]!.position}`);
          if (calls.length === 1) await held.promise;
        },
        failed: () => undefined,
        restarted: (from) => {
          calls.push(`restarted ${from}`);
        },
      },
      { from: 1, pageSize: 4, maxBytes: 1 << 20 },
    );
    follower.start();
    await until(() => calls.length === 1);
    follower.restart(2);
    expect(follower.restarting).toBe(true);
    held.open();
    await until(() => follower.next === 9 && !follower.restarting);
    expect(calls).toEqual(['page 1-4', 'restarted 2', 'page 2-5', 'page 6-8']);
    await follower.stop();
  });

  it('reads a failed page again after the delay the handler names, and stops when it names none', async () => {
    const { log, append, state } = memoryLog();
    append(6);
    state.failAt = 5;
    const failures: string[] = [];
    const seen: number[] = [];
    const follower = new LogFollower(
      log,
      {
        page: (events) => {
          seen.push(...events.map((e) => e.position));
        },
        failed: (error) => {
          failures.push((error as Error).message);
          if (failures.length === 2) state.failAt = undefined;
          return 1;
        },
      },
      { from: 1, pageSize: 3, maxBytes: 1 << 20 },
    );
    follower.start();
    await until(() => seen.length === 6);
    expect(failures).toEqual(['damaged at 5', 'damaged at 5']);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    await follower.stop();

    state.failAt = 2;
    const stopping = new LogFollower(log, { page: () => undefined, failed: () => undefined }, { from: 1, pageSize: 3, maxBytes: 1 << 20 });
    stopping.start();
    await until(() => stopping.isStopped);
    expect(stopping.next).toBe(1);
  });

  it('reads nothing while paused, and takes a restart meanwhile', async () => {
    const { log, append, state } = memoryLog();
    const seen: number[] = [];
    const follower = new LogFollower(
      log,
      { page: (events) => void seen.push(...events.map((e) => e.position)), failed: () => undefined },
      { from: 1, pageSize: 10, maxBytes: 1 << 20 },
    );
    follower.start();
    append(2);
    await until(() => seen.length === 2);
    follower.pause();
    append(1);
    const reads = state.reads.length;
    append(1);
    follower.restart(1);
    await until(() => follower.next === 1);
    expect(state.reads.length).toBe(reads);
    follower.resume();
    await until(() => seen.length === 6);
    expect(seen).toEqual([1, 2, 1, 2, 3, 4]);
    await follower.stop();
  });
});

describe('the live subscription and the projections', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('both read the log through the one follower loop', async () => {
    const { log, append } = memoryLog();
    append(3);
    const started = vi.spyOn(LogFollower.prototype, 'start');
    const projected: number[] = [];
    const projection = new Projection('p', (events) => void projected.push(...events.map((e) => e.position)), log);
    const written: string[] = [];
    const response = {
      writeHead: () => response,
      write: (chunk: string) => written.push(chunk) > 0,
      on: () => response,
      end: () => undefined,
      writableEnded: false,
    };
    const subscription = new LogSubscription(log, response as unknown as ServerResponse, 1, () => undefined);
    expect(started.mock.contexts.length).toBe(2);
    await projection.waitForPosition(3);
    expect(projected).toEqual([1, 2, 3]);
    expect(written.join('')).toContain('id: 3\n');
    subscription.close();
    await projection.stop();
  });
});
