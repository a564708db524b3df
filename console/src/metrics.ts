/**
 * The overview's figures, worked out from two readings of `GET /metrics` (Prometheus text): rates
 * from the counters' growth between the readings, latency percentiles from the growth of the
 * command-duration histogram's buckets. Pure functions, so they are tested without a browser
 * (test/console/metrics.test.ts).
 */

/** One reading: every sample by metric name, each with its labels. */
export interface Reading {
  /** When it was taken, in ms. */
  at: number;
  samples: Map<string, { labels: Record<string, string>; value: number }[]>;
}

/** What the overview charts, for the interval between two readings. */
export interface Point {
  /** Seconds since the epoch (uPlot's x axis). */
  time: number;
  commandsPerSecond: number;
  eventsPerSecond: number;
  /** Milliseconds, or null when no command finished in the interval. */
  p50: number | null;
  p99: number | null;
  /** Commands answered COMMAND_REJECTED in the interval. */
  rejections: number;
  /** Commands answered WRONG_EXPECTED_VERSION in the interval. */
  conflicts: number;
  /** Commands waiting or running, per shard, at the second reading. */
  queueDepths: number[];
  /** The share of the interval's commands whose aggregate state was cached (0 to 1), or null when none ran. */
  cacheHitRate: number | null;
  /** The log's last position at the second reading. */
  head: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parse the Prometheus text format (comments skipped). */
export function parseMetrics(text: string, at: number): Reading {
  const samples: Reading['samples'] = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL))
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = match[3] === '+Inf' ? Infinity : Number(match[3]);
    let list = samples.get(match[1]!);
    if (!list) samples.set(match[1]!, (list = []));
    list.push({ labels, value });
  }
  return { at, samples };
}

/** The sum of metric `name`'s samples whose labels include `where`. */
export function sum(reading: Reading, name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const sample of reading.samples.get(name) ?? []) {
    if (Object.entries(where).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
  }
  return total;
}

/** Growth of a counter between two readings; a restarted runtime (the counter went down) counts from 0. */
function growth(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/**
 * The `q` quantile (0..1) of the observations added between two readings of a histogram, in the
 * histogram's unit, interpolated linearly inside its bucket as Prometheus' histogram_quantile
 * does; null when nothing was observed.
 */
export function quantile(q: number, before: Reading, after: Reading, name: string): number | null {
  const buckets = (after.samples.get(`${name}_bucket`) ?? [])
    .map(({ labels, value }) => {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      return { le, count: growth(sum(before, `${name}_bucket`, { le: labels.le ?? '' }), value) };
    })
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      // Past the last finite bound there is nothing to interpolate towards.
      if (le === Infinity) return lower;
      const inBucket = count - below;
      return inBucket === 0 ? le : lower + ((le - lower) * (rank - below)) / inBucket;
    }
    lower = le;
    below = count;
  }
  return lower;
}

/** The overview's point for the interval between `before` and `after`. */
export function pointBetween(before: Reading, after: Reading): Point {
  const seconds = Math.max((after.at - before.at) / 1000, 0.001);
  const rate = (name: string, where: Record<string, string> = {}) => growth(sum(before, name, where), sum(after, name, where));
  const ms = (value: number | null) => (value === null ? null : value * 1000);
  const depths = (after.samples.get('thalo_shard_queue_depth') ?? [])
    .slice()
    .sort((a, b) => Number(a.labels.shard) - Number(b.labels.shard))
    .map((s) => s.value);
  return {
    time: after.at / 1000,
    commandsPerSecond: rate('thalo_commands_total') / seconds,
    eventsPerSecond: rate('thalo_events_appended_total') / seconds,
    p50: ms(quantile(0.5, before, after, 'thalo_command_duration_seconds')),
    p99: ms(quantile(0.99, before, after, 'thalo_command_duration_seconds')),
    rejections: rate('thalo_commands_total', { outcome: 'COMMAND_REJECTED' }),
    conflicts: rate('thalo_commands_total', { outcome: 'WRONG_EXPECTED_VERSION' }),
    queueDepths: depths,
    cacheHitRate: hitRate(rate('thalo_cache_hits_total'), rate('thalo_cache_misses_total')),
    head: sum(after, 'thalo_log_position'),
  };
}

/** Hits over lookups, or null when there were none. */
export function hitRate(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}
