/**
 * `npm run bench`: the headline claim. Starts an engine on a temporary store with the `counter`
 * module and measures durable commands/s, latency and peak memory for workers = 1, 2 and the
 * core count, on two workloads; then the time to rebuild an aggregate from 10,000 events with
 * and without a snapshot. Exits non-zero if durable throughput falls below 10,000 commands/s.
 *
 * Environment: BENCH_COMMANDS (default 200,000 per run), BENCH_IN_FLIGHT (default 2,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Bench } from 'tinybench';
import { Engine } from '../src/engine/index.js';
import { EventStore } from '../src/store/index.js';
import { loadModule } from '../src/wasm/index.js';
import { AggregateStates } from '../workers/aggregate-states.js';
import { closedLoop, describeMachine } from './machine.js';

const MODULES = resolve(process.env.THALO_BENCH_MODULES ?? 'modules');
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 200_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 2_000);
const BAR_COMMANDS_PER_S = 10_000;

async function withEngine<T>(workers: number, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const data = mkdtempSync(join(tmpdir(), 'thalo-bench-'));
  const engine = await Engine.start({ modules: MODULES, data, workers });
  try {
    // Warm up: start every worker, load the module, and let the JIT see the hot path.
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => engine.execute('counter', `warm-${i}`, 'Increment', { amount: 1 })));
    return await fn(engine);
  } finally {
    await engine.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => String(c).padStart(i === 0 ? 22 : 12)).join(' ');
}

async function throughput(): Promise<number> {
  const counts = [...new Set([1, 2, availableParallelism()])];
  console.log(`\ndurable commands (counter Increment), ${COMMANDS} commands per run, ${IN_FLIGHT} in flight`);
  console.log(row(['workload', 'workers', 'commands/s', 'p50 ms', 'p99 ms', 'peak RSS MiB']));
  let best = 0;
  for (const workers of counts) {
    for (const workload of ['10,000 aggregates', '1 hot aggregate'] as const) {
      const idOf = workload === '1 hot aggregate' ? () => 'hot' : (i: number) => `c-${i % 10_000}`;
      const result = await withEngine(workers, (engine) => closedLoop(engine, `${workload} × ${workers}`, COMMANDS, IN_FLIGHT, idOf));
      if (workload === '10,000 aggregates') best = Math.max(best, result.commandsPerS);
      console.log(
        row([
          workload,
          workers,
          Math.round(result.commandsPerS),
          result.p50.toFixed(2),
          result.p99.toFixed(2),
          result.peakRssMiB.toFixed(0),
        ]),
      );
    }
  }
  // One sequential client: each command waits for the previous one's sync.
  const sequential = await withEngine(1, (engine) => closedLoop(engine, 'sequential', 5_000, 1, () => 'seq'));
  console.log(
    row([
      '1 sequential client',
      1,
      Math.round(sequential.commandsPerS),
      sequential.p50.toFixed(2),
      sequential.p99.toFixed(2),
      sequential.peakRssMiB.toFixed(0),
    ]),
  );
  return best;
}

async function rebuild(): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'thalo-bench-rebuild-'));
  const engine = await Engine.start({ modules: MODULES, data, workers: 1, snapshotEvery: 0 });
  const EVENTS = 10_000;
  for (let i = 0; i < EVENTS; i += 1_000) {
    await Promise.all(Array.from({ length: 1_000 }, () => engine.execute('counter', 'long', 'Increment', { amount: 1 })));
  }
  await engine.stop();
  // Rebuild exactly as a worker does, on this thread, so tinybench can time it.
  const store = EventStore.open({ path: data });
  const states = new AggregateStates(store, 10);
  const file = join(MODULES, 'counter.wasm');
  const counter = await loadModule(file);
  states.load([{ name: 'counter', file, version: 1, compiled: counter.compiled, facts: counter.facts }]);
  const slot = states.slot('counter');
  const full = await states.rebuild(slot, 'counter-long', 'long');
  await store.putSnapshot('counter-long', { seq: full.version, state: slot.instance.snapshot(full.handle) });
  const bench = new Bench({ time: 1_000 });
  bench.add(`rebuild from ${EVENTS} events`, async () => {
    states.evict('counter-long');
    await states.rebuild(slot, 'counter-long', 'long', false);
  });
  bench.add(`rebuild from a snapshot at ${EVENTS}`, async () => {
    states.evict('counter-long');
    await states.rebuild(slot, 'counter-long', 'long');
  });
  await bench.run();
  console.log('\nrebuild of one aggregate (counter, 10,000 events)');
  for (const task of bench.tasks) {
    const result = task.result;
    const mean =
      'latency' in result
        ? `${result.latency.mean.toFixed(3)} ms (p99 ${result.latency.p99?.toFixed(3)} ms, ${result.latency.samplesCount} runs)`
        : result.state;
    console.log(`  ${task.name.padEnd(34)} ${mean}`);
  }
  await store.close();
  rmSync(data, { recursive: true, force: true });
}

console.log(describeMachine());
const best = await throughput();
await rebuild();
if (best < BAR_COMMANDS_PER_S) {
  process.stderr.write(`\nFAIL: best durable throughput ${Math.round(best)} commands/s is below ${BAR_COMMANDS_PER_S}\n`);
  process.exit(1);
}
console.log(`\nok: best durable throughput ${Math.round(best)} commands/s (bar ${BAR_COMMANDS_PER_S})`);
