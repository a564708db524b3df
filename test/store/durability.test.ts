/**
 * Durable on resolve (design invariant 4). lmdb-js exposes when a commit is synced through its
 * `flushed` promise, which the store offers as `flush()`: asked for right after an append was
 * queued, it resolves once that append's transaction is on disk. A durable append must therefore
 * never resolve before it; a relaxed one resolves at commit, before the sync, which shows the
 * check can tell the two apart.
 */
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/store/index.js';
import { event, openStore } from './helpers.js';

/** Which of the append and the flush of its transaction settled first, over several rounds. */
async function settleOrder(store: EventStore, rounds: number): Promise<string[]> {
  const orders: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const order: string[] = [];
    const appended = store.append(`s-${round}`, [event('e')]).then(() => order.push('append'));
    const flushed = store.flush().then(() => order.push('sync'));
    await Promise.all([appended, flushed]);
    orders.push(order.join(' then '));
  }
  return orders;
}

describe('durability', () => {
  it("'durable' (the default): an append resolves only after its transaction is synced", async () => {
    const store = openStore();
    const orders = await settleOrder(store, 20);
    expect(new Set(orders)).toEqual(new Set(['sync then append']));
  });

  it("'relaxed': an append resolves at commit, before the sync", async () => {
    const store = openStore({ durability: 'relaxed' });
    const orders = await settleOrder(store, 20);
    expect(orders).toContain('append then sync');
    await store.flush();
    expect(store.lastPosition()).toBe(20);
  });
});
