/**
 * The console's pure parts, without a browser: the overview's figures from two readings of
 * `/metrics`, and what changed between two states. The text below is the runtime's own format
 * (prom-client), cut to the metrics the overview reads.
 */
import { describe, expect, it } from 'vitest';
import { diff } from '../../console/src/diff.js';
import { parseMetrics, pointBetween, quantile } from '../../console/src/metrics.js';

function metrics({ ok, rejected, conflicts, events, buckets, depths, head, hits = 0, misses = 0 }: Record<string, any>): string {
  const bounds = ['0.001', '0.01', '0.1', '+Inf'];
  return [
    '# HELP thalo_commands_total Commands answered, by outcome',
    '# TYPE thalo_commands_total counter',
    `thalo_commands_total{outcome="ok"} ${ok}`,
    `thalo_commands_total{outcome="COMMAND_REJECTED"} ${rejected}`,
    `thalo_commands_total{outcome="WRONG_EXPECTED_VERSION"} ${conflicts}`,
    `thalo_events_appended_total{aggregate="counter"} ${events}`,
    ...bounds.map((le, i) => `thalo_command_duration_seconds_bucket{le="${le}"} ${buckets[i]}`),
    `thalo_command_duration_seconds_count ${buckets[3]}`,
    ...depths.map((d: number, shard: number) => `thalo_shard_queue_depth{shard="${shard}"} ${d}`),
    `thalo_log_position ${head}`,
    `thalo_cache_hits_total ${hits}`,
    `thalo_cache_misses_total ${misses}`,
    '',
  ].join('\n');
}

describe('the overview figures', () => {
  const before = parseMetrics(
    metrics({ ok: 10, rejected: 1, conflicts: 0, events: 12, buckets: [5, 10, 11, 11], depths: [0, 0], head: 12, hits: 3, misses: 8 }),
    1_000,
  );
  // 2 s later: 20 more commands (18 ok, 1 rejected, 1 conflict), 40 events; 10 commands under 1 ms,
  // 10 between 1 and 10 ms.
  const after = parseMetrics(
    metrics({ ok: 28, rejected: 2, conflicts: 1, events: 52, buckets: [15, 25, 26, 26], depths: [3, 1], head: 52, hits: 18, misses: 13 }),
    3_000,
  );

  it("reads the interval's cache hit rate: 15 hits and 5 misses are 75 %, none at all is unknown", () => {
    expect(pointBetween(before, after).cacheHitRate).toBe(0.75);
    expect(pointBetween(after, after).cacheHitRate).toBeNull();
  });

  it('reads rates, outcomes, queue depths and the head from two readings', () => {
    const point = pointBetween(before, after);
    expect(point).toMatchObject({
      time: 3,
      commandsPerSecond: 10,
      eventsPerSecond: 20,
      rejections: 1,
      conflicts: 1,
      queueDepths: [3, 1],
      head: 52,
    });
  });

  it('interpolates percentiles inside the histogram buckets, in ms', () => {
    const point = pointBetween(before, after);
    // Rank 7.5 of 15 observations: 10 of them in the first bucket (0 to 1 ms), so 0.75 ms.
    expect(point.p50).toBeCloseTo(0.75, 6);
    // Rank 14.85: the second bucket (1 to 10 ms) holds ranks 10 to 15: 1 + 9 * 4.85 / 5 ms.
    expect(point.p99).toBeCloseTo(1 + (9 * 4.85) / 5, 6);
    expect(quantile(0.5, before, before, 'thalo_command_duration_seconds')).toBeNull();
  });

  it('counts a counter that went down (a restarted runtime) from zero', () => {
    const restarted = parseMetrics(
      metrics({ ok: 4, rejected: 0, conflicts: 0, events: 4, buckets: [4, 4, 4, 4], depths: [0], head: 60 }),
      5_000,
    );
    expect(pointBetween(after, restarted)).toMatchObject({ commandsPerSecond: 2, eventsPerSecond: 2 });
  });

  it('reads escaped label values and skips comments', () => {
    const reading = parseMetrics('# a comment\nx{a="q\\"uote",b="n\\\\"} 3\n', 0);
    expect(reading.samples.get('x')).toEqual([{ labels: { a: 'q"uote', b: 'n\\' }, value: 3 }]);
  });
});

describe('what changed between two states', () => {
  it('names each changed, added and removed leaf by its path', () => {
    expect(diff({ count: 1, items: { a: { done: false } } }, { count: 2, items: { a: { done: true }, b: { done: false } } })).toEqual([
      { path: 'count', before: 1, after: 2, kind: 'changed' },
      { path: 'items.a.done', before: false, after: true, kind: 'changed' },
      { path: 'items.b', after: { done: false }, kind: 'added' },
    ]);
    expect(diff({ a: 1, b: 2 }, { a: 1 })).toEqual([{ path: 'b', before: 2, kind: 'removed' }]);
    expect(diff({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
    expect(diff(null, { a: 1 })).toEqual([{ path: '(the whole state)', before: null, after: { a: 1 }, kind: 'changed' }]);
  });
});
