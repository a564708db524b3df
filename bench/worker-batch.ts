/**
 * `npm run bench:worker`: what one aggregate worker does for a batch, on one thread and nothing
 * else: the commands decoded from their buffer, each handled by the `counter` guest against its
 * cached state, one durable commit (workers/batch-executor.ts), the reply encoded, and decoded
 * again as the engine would, in a worker thread with the heap limits of the engine's workers. No
 * thread hops and no other thread competing for the cores, so its CPU per command moves by a few
 * percent between runs where the engine's figures move by tens of percent: this is the benchmark
 * that tells whether a change to the worker's path helps. Run it alternately with and without
 * the change, several times each.
 *
 * Environment: BENCH_WORKER_BATCH (commands per batch, default 2,000), BENCH_WORKER_BATCHES
 * (default 100), over 10,000 aggregates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker, isMainThread } from 'node:worker_threads';
import { WORKER_YOUNG_GENERATION_MB } from '../src/engine/engine.js';
import { normalizePayload } from '../src/json-values.js';
import { decodeBatchReply, decodeCommands, encodeBatchReply, encodeCommands } from '../src/protocol/batch-codec.js';
import type { CommandMessage } from '../src/protocol/messages.js';
import { ProgressBoard } from '../src/protocol/progress-board.js';
import { EventStore } from '../src/store/index.js';
import { BatchExecutor } from '../workers/batch-executor.js';
import { counterStates, cpuMeter, describeMachine } from './machine.js';

const MODULES = resolve(process.env.THALO_BENCH_MODULES ?? 'modules');
const BATCH = Number(process.env.BENCH_WORKER_BATCH ?? 2_000);
const BATCHES = Number(process.env.BENCH_WORKER_BATCHES ?? 100);
const AGGREGATES = 10_000;
const WARM_UP = 10;

async function run(): Promise<void> {
  const path = mkdtempSync(join(tmpdir(), 'thalo-bench-worker-'));
  // A worker's own handle: small commits on this thread, as the engine's workers open the store.
  const store = EventStore.open({ path, commitOnThread: true });
  try {
    const states = await counterStates(store, AGGREGATES, MODULES);
    const { buffer, origin } = ProgressBoard.create(1);
    const executor = new BatchExecutor(store, states, new ProgressBoard(buffer, origin), { snapshotEvery: 1_000 });
    const payload = normalizePayload({ amount: 1 }, 'payload');
    let sent = 0;
    const batch = async (seq: number): Promise<void> => {
      const commands: CommandMessage[] = Array.from({ length: BATCH }, () => {
        const id = `c-${sent++ % AGGREGATES}`;
        return { aggregate: 'counter', id, stream: `counter-${id}`, command: 'Increment', payload };
      });
      const reply = await executor.execute({ shard: 0, seq, commands: decodeCommands(encodeCommands(commands)) });
      const decoded = decodeBatchReply(encodeBatchReply(reply));
      const failed = decoded.replies.find((r) => !r.ok);
      if (failed) throw new Error(`a command failed: ${JSON.stringify(failed)}`);
    };
    for (let seq = 1; seq <= WARM_UP; seq++) await batch(seq);
    const meter = cpuMeter();
    const started = performance.now();
    for (let seq = WARM_UP + 1; seq <= WARM_UP + BATCHES; seq++) await batch(seq);
    const seconds = (performance.now() - started) / 1000;
    const cpu = meter(BATCH * BATCHES);
    console.log(`one worker's batch path: ${BATCHES} batches of ${BATCH} counter commands over ${AGGREGATES} aggregates, durable`);
    console.log(`  ${Math.round((BATCH * BATCHES) / seconds)} commands/s`);
    // The process's CPU: this worker thread, lmdb's write thread, V8's helpers (the main thread waits).
    console.log(`  CPU µs/command: ${cpu.total.toFixed(2)}, of it ${cpu.kernel.toFixed(2)} in the kernel`);
  } finally {
    await store.close();
    rmSync(path, { recursive: true, force: true });
  }
}

if (isMainThread) {
  console.log(describeMachine());
  const worker = new Worker(new URL(import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  const code = await new Promise<number>((done) => worker.once('exit', done));
  process.exitCode = code;
} else {
  await run();
}
