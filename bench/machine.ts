/** What every benchmark prints first: the machine its figures come from. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CommitUse, Engine } from '../src/engine/index.js';
import type { EventStoreContract } from '../src/store/index.js';
import { loadModule } from '../src/wasm/index.js';
import { AggregateStates } from '../workers/aggregate-states.js';

export function describeMachine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `machine: ${availableParallelism()} cores, ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}/${process.arch}`;
}

/**
 * A worker's aggregate states on `store`, `cacheSize` of them, with the `counter` module of
 * `modules` loaded: for benchmarks that run a worker's code on their own thread.
 */
export async function counterStates(store: EventStoreContract, cacheSize: number, modules: string): Promise<AggregateStates> {
  const states = new AggregateStates(store, cacheSize);
  const file = join(modules, 'counter.wasm');
  const counter = await loadModule(file);
  states.load([{ name: 'counter', file, version: 1, compiled: counter.compiled, facts: counter.facts }]);
  return states;
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
  /**
   * Peak anonymous RSS (heaps, wasm memories, buffers: /proc's RssAnon), without the pages of the
   * store's file that lmdb maps (RssFile), which grow with what a run reads, not with the cache.
   * NaN where /proc is missing.
   */
  peakAnonMiB: number;
  cpu: CpuUse;
}

/** This process's anonymous resident memory in bytes (/proc/self/status RssAnon), NaN elsewhere. */
export function anonymousRss(): number {
  try {
    const match = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU per command, in µs: the whole process, its main thread, and the other threads (the
 * workers, lmdb's and V8's background threads); and `kernel`, the part of `total` spent in the
 * kernel (system time: writes, syncs and page faults of the store's file, thread wake-ups).
 */
export interface CpuUse {
  total: number;
  main: number;
  other: number;
  kernel: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build we run). */
const TICKS_PER_S = 100;

/** [utime, stime], in seconds, from a /proc stat file (Linux); throws where there is none. */
function statCpuTimes(file: string): [user: number, system: number] {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]) / TICKS_PER_S, Number(fields[12]) / TICKS_PER_S];
}

/** CPU seconds of process `pid` so far, all its threads (Linux /proc); throws where there is none. */
export function processCpuSeconds(pid: number): number {
  const [user, system] = statCpuTimes(`/proc/${pid}/stat`);
  return user + system;
}

/** [process, main thread, process in the kernel] CPU in µs from /proc (Linux), or undefined elsewhere. */
function procCpu(pid: number): [number, number, number] | undefined {
  try {
    const [user, system] = statCpuTimes(`/proc/${pid}/stat`);
    const [mainUser, mainSystem] = statCpuTimes(`/proc/${pid}/task/${pid}/stat`);
    return [(user + system) * 1e6, (mainUser + mainSystem) * 1e6, system * 1e6];
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring the CPU of process `pid` (this one by default); the returned function gives
 * the CPU per command of the `commands` done since. Per thread from /proc on Linux (10 ms ticks:
 * use runs of seconds). Elsewhere, for this process only, the main thread's share is its
 * event-loop active time, and for another process nothing is known (NaN).
 */
export function cpuMeter(pid = process.pid): (commands: number) => CpuUse {
  const proc0 = procCpu(pid);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  return (commands) => {
    const proc1 = procCpu(pid);
    let total: number;
    let main: number;
    let kernel: number;
    if (proc0 && proc1) {
      total = proc1[0] - proc0[0];
      main = proc1[1] - proc0[1];
      kernel = proc1[2] - proc0[2];
    } else if (pid === process.pid) {
      const cpu = process.cpuUsage(cpu0);
      total = cpu.user + cpu.system;
      main = Math.min(total, performance.eventLoopUtilization(elu0).active * 1000);
      kernel = cpu.system;
    } else {
      total = main = kernel = NaN;
    }
    return { total: total / commands, main: main / commands, other: (total - main) / commands, kernel: kernel / commands };
  };
}

/** `total/main/other` µs of CPU per command, for a table cell. */
export function formatCpu(cpu: CpuUse): string {
  return `${cpu.total.toFixed(1)}/${cpu.main.toFixed(1)}/${cpu.other.toFixed(1)}`;
}

/**
 * What the engine's store commits cost per command during a run, from two readings of
 * `Engine.commitStats()`: the commits' time (from a worker handing one to the store until durable,
 * the wait for LMDB's write lock included) per command, in µs, and a commit's appends on average.
 * LMDB commits one at a time, so when the time nears the µs per command the run reached
 * (1e6 / commands/s) times the workers, the store, not the CPU, sets the pace.
 */
function commitCost(before: CommitUse, after: CommitUse, commands: number): { us: number; appends: number } {
  const count = after.count - before.count;
  const appends = after.appends - before.appends;
  return { us: ((after.seconds - before.seconds) * 1e6) / commands, appends: count === 0 ? 0 : Math.round(appends / count) };
}

/** Keeps `inFlight` counter commands outstanding on `engine` until `total` were acknowledged. */
export function closedLoop(
  engine: Engine,
  label: string,
  total: number,
  inFlight: number,
  idOf: (i: number) => string,
): Promise<RunResult> {
  return closedLoopOf((i) => engine.execute('counter', idOf(i), 'Increment', { amount: 1 }), label, total, inFlight);
}

/** `closedLoop`, with what the engine's store commits cost during it (see `commitCost`): as a table cell, and in µs per command. */
export async function closedLoopWithCommits(
  engine: Engine,
  label: string,
  total: number,
  inFlight: number,
  idOf: (i: number) => string,
): Promise<RunResult & { commits: string; commitUs: number }> {
  const before = engine.commitStats();
  const result = await closedLoop(engine, label, total, inFlight, idOf);
  const { us, appends } = commitCost(before, engine.commitStats(), total);
  return { ...result, commits: `${us.toFixed(1)} (${appends})`, commitUs: us };
}

/**
 * Commands a run is warmed up with before it is measured (BENCH_WARM_UP, default 200,000): the
 * same load on other streams, so that V8 has compiled the hot paths. A count, not a time, so that
 * the engine and the plain loop it is compared with start from stores of the same size (a commit
 * costs more as the store grows). The engine's first seconds are its JIT's: in the first 200,000
 * commands after a start, 71% of the CPU of V8's helper threads went to TurboFan (perf), ~6 µs
 * per command. Measured with 2 workers on 10,000 aggregates, 200,000 commands, in turns: after
 * the 2,000 commands every engine starts with, 43k-48k commands/s at 33-37 µs of CPU per command;
 * after 200,000 more, 54k-72k at 21-29 µs.
 */
export const WARM_UP_COMMANDS = Number(process.env.BENCH_WARM_UP ?? 200_000);

/** Keeps `inFlight` calls of `command` outstanding until `count` completed (see WARM_UP_COMMANDS). */
export async function warmUp(command: (i: number) => Promise<unknown>, inFlight: number, count = WARM_UP_COMMANDS): Promise<void> {
  let issued = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (issued < count) await command(issued++);
    }),
  );
}

/**
 * Keeps `inFlight` calls of `command` (given the command's index) outstanding until `total`
 * resolved: the engine's runs and the plain lmdb-js loop measure the same way.
 */
export async function closedLoopOf(
  command: (i: number) => Promise<unknown>,
  label: string,
  total: number,
  inFlight: number,
): Promise<RunResult> {
  const latencies = new Float64Array(total);
  let issued = 0;
  let done = 0;
  let peakRss = process.memoryUsage().rss;
  let peakAnon = anonymousRss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakAnon = Math.max(peakAnon, anonymousRss());
  }, 50);
  const meter = cpuMeter();
  const started = performance.now();
  await new Promise<void>((resolvePromise, reject) => {
    const next = (): void => {
      if (issued >= total) return;
      const i = issued++;
      const t0 = performance.now();
      command(i).then(() => {
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
    peakAnonMiB: peakAnon / 2 ** 20,
    cpu,
  };
}
