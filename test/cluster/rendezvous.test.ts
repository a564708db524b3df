/**
 * Ownership by rendezvous hashing (src/cluster/rendezvous.ts): every node computes the same owner,
 * the shares are even, and a node joining or leaving moves only its own share of the keys.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rendezvous } from '../../src/cluster/rendezvous.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `account-${i}`);

function owners(ring: Rendezvous): string[] {
  return KEYS.map((key) => ring.ownerOf(key)!);
}

describe('rendezvous ownership', () => {
  it('gives every key the same owner whatever the order of the member list', () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    expect(owners(new Rendezvous(ids))).toEqual(owners(new Rendezvous([...ids].reverse())));
  });

  it('has no owner without members, and one node owns everything alone', () => {
    expect(new Rendezvous([]).ownerOf('counter-1')).toBeUndefined();
    const id = randomUUID();
    expect(new Set(owners(new Rendezvous([id])))).toEqual(new Set([id]));
  });

  it('spreads keys evenly: each of 4 nodes owns about a quarter', () => {
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const counts = new Map<string, number>();
    for (const owner of owners(new Rendezvous(ids))) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect(counts.size).toBe(4);
    // 5,000 expected per node; the binomial's standard deviation is ~61, so ±8% is far out.
    for (const count of counts.values()) expect(Math.abs(count - 5_000)).toBeLessThan(400);
  });

  it('moves only about 1/N of the keys when a node joins, all of them to the newcomer', () => {
    const ids = Array.from({ length: 3 }, () => randomUUID());
    const joiner = randomUUID();
    const before = owners(new Rendezvous(ids));
    const after = owners(new Rendezvous([...ids, joiner]));
    const moved = KEYS.filter((_, i) => before[i] !== after[i]);
    expect(moved.length / KEYS.length).toBeGreaterThan(0.25 - 0.03);
    expect(moved.length / KEYS.length).toBeLessThan(0.25 + 0.03);
    expect(KEYS.every((_, i) => before[i] === after[i] || after[i] === joiner)).toBe(true);
  });

  it('moves only the keys of a node that leaves, spread over the others', () => {
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const leaver = ids[2]!;
    const before = owners(new Rendezvous(ids));
    const after = owners(new Rendezvous(ids.filter((id) => id !== leaver)));
    const kept = KEYS.filter((_, i) => before[i] !== leaver && after[i] !== before[i]);
    expect(kept).toEqual([]);
    const heirs = new Set(KEYS.flatMap((_, i) => (before[i] === leaver ? [after[i]] : [])));
    expect(heirs.size).toBe(3);
  });
});
