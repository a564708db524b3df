/** Event ids (src/store/event-ids.ts): random version 4 UUIDs, as `crypto.randomUUID` makes them. */
import { describe, expect, it } from 'vitest';
import { newEventId } from '../../src/store/event-ids.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newEventId', () => {
  it('makes version 4 UUIDs, all different, across many refills of its random pool', () => {
    const ids = Array.from({ length: 10_000 }, () => newEventId());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('returns strings that stay as they were when later ids are made', () => {
    const first = newEventId();
    const copy = `${first}`;
    for (let i = 0; i < 300; i++) newEventId();
    expect(first).toBe(copy);
  });

  it('spreads every hex digit that is not fixed over all 16 values', () => {
    // 32 digits, 2 of them fixed (the version, and the variant's top bits): the other 30 take
    // each value about 1/16 of the time. 4,096 ids give each value ~256 times per digit.
    const counts = Array.from({ length: 36 }, () => new Map<string, number>());
    for (let i = 0; i < 4_096; i++) {
      const id = newEventId();
      for (let c = 0; c < 36; c++) counts[c]!.set(id[c]!, (counts[c]!.get(id[c]!) ?? 0) + 1);
    }
    for (let c = 0; c < 36; c++) {
      if ([8, 13, 18, 23].includes(c)) expect([...counts[c]!.keys()]).toEqual(['-']);
      else if (c === 14) expect([...counts[c]!.keys()]).toEqual(['4']);
      else if (c === 19) expect([...counts[c]!.keys()].sort()).toEqual(['8', '9', 'a', 'b']);
      else {
        expect(counts[c]!.size, `digit ${c}`).toBe(16);
        for (const n of counts[c]!.values()) expect(n, `digit ${c}`).toBeGreaterThan(150);
      }
    }
  });
});
