/** What every benchmark prints first: the machine its figures come from. */
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { Engine } from '../src/engine/index.js';

export function describeMachine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `machine: ${availableParallelism()} cores, ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Percentile of an ascending sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** A progress line rewritten in place on a terminal, printed once at the end otherwise. */
export function progress(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) return;
  process.stdout.write(`\r  ${label}: ${done}/${total} (${Math.floor((done / total) * 100)}%)   `);
  if (done >= total) process.stdout.write('\r\x1b[K');
}

/** What one closed-loop run of `counter` commands measured. */
export interface RunResult {
  commandsPerS: number;
  p50: number;
  p99: number;
  peakRssMiB: number;
  cpu: CpuUse;
}

/**
 * CPU per command, in µs. `main` is the main thread's event-loop active time (Node 20 has no
 * per-thread CPU clock; a thread that never waits on I/O is on the CPU while its loop is active);
 * `other` is the rest of the process's CPU: the workers, lmdb's and V8's background threads.
 */
export interface CpuUse {
  total: number;
  main: number;
  other: number;
}

/** Starts measuring; the returned function gives the CPU per command of the `commands` done since. */
export function cpuMeter(): (commands: number) => CpuUse {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  return (commands) => {
    const cpu = process.cpuUsage(cpu0);
    const main = performance.eventLoopUtilization(elu0).active * 1000;
    const total = cpu.user + cpu.system;
    return { total: total / commands, main: main / commands, other: Math.max(0, total - main) / commands };
  };
}

/** `total/main/other` µs of CPU per command, for a table cell. */
export function formatCpu(cpu: CpuUse): string {
  return `${cpu.total.toFixed(1)}/${cpu.main.toFixed(1)}/${cpu.other.toFixed(1)}`;
}

/** Keeps `inFlight` commands outstanding until `total` were acknowledged. */
export async function closedLoop(
  engine: Engine,
  label: string,
  total: number,
  inFlight: number,
  idOf: (i: number) => string,
): Promise<RunResult> {
  const latencies = new Float64Array(total);
  let issued = 0;
  let done = 0;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const meter = cpuMeter();
  const started = performance.now();
  await new Promise<void>((resolvePromise, reject) => {
    const next = (): void => {
      if (issued >= total) return;
      const i = issued++;
      const t0 = performance.now();
      engine.execute('counter', idOf(i), 'Increment', { amount: 1 }).then(() => {
        latencies[i] = performance.now() - t0;
        done++;
        if (done % 10_000 === 0) progress(label, done, total);
        if (done === total) resolvePromise();
        else next();
      }, reject);
    };
    for (let k = 0; k < Math.min(inFlight, total); k++) next();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = meter(total);
  clearInterval(sampler);
  latencies.sort();
  return {
    commandsPerS: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    peakRssMiB: peakRss / 2 ** 20,
    cpu,
  };
}
