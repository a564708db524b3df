/**
 * Projections: catch-up throughput of a no-op projection over 1,000,000 events, and the live lag
 * (commit to handler) under a steady load of 20,000 commands/s. Bars: catch-up ≥ 400,000 events/s,
 * live p99 lag < 50 ms.
 *
 * Environment: BENCH_CATCHUP_EVENTS (default 1,000,000), BENCH_LIVE_SECONDS (default 5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pack } from 'msgpackr';
import { Engine } from '../src/engine/index.js';
import { Consumers } from '../src/projections/index.js';
import { EventStore } from '../src/store/index.js';
import type { AppendRequest } from '../src/store/types.js';
import { describeMachine, percentile, progress } from './machine.js';

const MODULES = resolve(process.env.THALO_BENCH_MODULES ?? 'modules');
const CATCHUP_EVENTS = Number(process.env.BENCH_CATCHUP_EVENTS ?? 1_000_000);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 5);
const LIVE_RATE = 20_000;

async function catchUp(): Promise<number> {
  const data = mkdtempSync(join(tmpdir(), 'thalo-bench-catchup-'));
  const store = EventStore.open({ path: data, durability: 'relaxed' });
  const payload = pack({ amount: 1 });
  const PER_BATCH = 1_000;
  for (let written = 0; written < CATCHUP_EVENTS; written += PER_BATCH) {
    const requests: AppendRequest[] = Array.from({ length: PER_BATCH }, (_, i) => ({
      stream: `counter-${(written + i) % 10_000}`,
      events: [{ type: 'Incremented', data: payload }],
    }));
    await store.appendBatch(requests);
    if (written % 100_000 === 0) progress('writing the log', written, CATCHUP_EVENTS);
  }
  await store.close();
  const engine = await Engine.start({ modules: MODULES, data, workers: 1 });
  const started = performance.now();
  let delivered = 0;
  const projection = new Consumers(engine.log).project(
    'noop',
    (events) => {
      delivered += events.length;
    },
    { batchSize: 5_000 },
  );
  await projection.waitForPosition(CATCHUP_EVENTS);
  const seconds = (performance.now() - started) / 1000;
  await engine.stop();
  rmSync(data, { recursive: true, force: true });
  if (delivered !== CATCHUP_EVENTS) throw new Error(`delivered ${delivered} of ${CATCHUP_EVENTS}`);
  return CATCHUP_EVENTS / seconds;
}

async function liveLag(): Promise<{ p50: number; p99: number; max: number; rate: number }> {
  const data = mkdtempSync(join(tmpdir(), 'thalo-bench-live-'));
  const engine = await Engine.start({ modules: MODULES, data, workers: 2 });
  // Warm up the workers and the JIT first; measure only what follows.
  await Promise.all(Array.from({ length: 5_000 }, (_, i) => engine.execute('counter', `w${i % 1_000}`, 'Increment', { amount: 1 })));
  const lags: number[] = [];
  const projection = new Consumers(engine.log).project(
    'lag',
    (events) => {
      const now = Date.now();
      for (const e of events) lags.push(now - e.timestamp);
    },
    { from: (await engine.lastPosition()) + 1 },
  );
  const tickMs = 10;
  const perTick = (LIVE_RATE * tickMs) / 1000;
  const pending: Promise<unknown>[] = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < LIVE_SECONDS * 1000) {
    const tickStart = performance.now();
    for (let i = 0; i < perTick; i++) pending.push(engine.execute('counter', `l${sent++ % 10_000}`, 'Increment', { amount: 1 }));
    const wait = tickMs - (performance.now() - tickStart);
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  await Promise.all(pending);
  const rate = sent / ((performance.now() - started) / 1000);
  await projection.waitForPosition(await engine.lastPosition());
  await engine.stop();
  rmSync(data, { recursive: true, force: true });
  lags.sort((a, b) => a - b);
  return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1] ?? NaN, rate };
}

console.log(describeMachine());
const catchUpRate = await catchUp();
console.log(
  `\nprojection catch-up (no-op handler, ${CATCHUP_EVENTS} events): ${Math.round(catchUpRate)} events/s (bar 400,000) ${catchUpRate >= 400_000 ? 'ok' : 'BELOW BAR'}`,
);
const live = await liveLag();
console.log(
  `projection live lag at ${Math.round(live.rate)} commands/s for ${LIVE_SECONDS} s: p50 ${live.p50} ms, p99 ${live.p99} ms, max ${live.max} ms (bar p99 < 50 ms) ${live.p99 < 50 ? 'ok' : 'BELOW BAR'}`,
);
