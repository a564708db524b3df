/**
 * Event store benchmark: `npm run build && npm run bench:store` (add `-- --quick` for a smoke run).
 *
 * Throughput of appends is measured with a plain timed loop that keeps many appends in flight
 * (that is what makes lmdb-js group them into one transaction); reads with tinybench. A plain
 * lmdb + msgpackr loop doing the same writes is measured too, with both ways of getting durable
 * commits, as the reference for the store's overhead and for its choice of LMDB's classic
 * syncing commit over lmdb-js's `overlappingSync` (see openDatabases in src/store/databases.ts). Figures on a shared 2-core machine are noisy: compare runs
 * made back to back, and look at the load average printed first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { Packr, pack } from 'msgpackr';
import { Bench } from 'tinybench';
import { EventStore } from '../src/store/index.js';
import { STREAM_INDEX_EVERY } from '../src/store/stream-index.js';
import type { NewEvent } from '../src/store/index.js';

const QUICK = process.argv.includes('--quick');
const SINGLE_APPENDS = QUICK ? 10_000 : 100_000;
const TEN_EVENT_APPENDS = QUICK ? 2_000 : 20_000;
const BATCHES = QUICK ? 100 : 1_000;
const BATCH_SIZE = 100;
const STREAMS = 1_000;
const IN_FLIGHT = 1_000;
const BAR = { durableAppends: 60_000, readAll: 500_000, readStreamMs: 20 };
/** The store grown to the size the HTTP benchmark's batch run reaches, for "appends at scale". */
const SCALE_STREAMS = 10_000;
const SCALE_LOG = QUICK ? 100_000 : 600_000;
const SCALE_BATCHES = QUICK ? 10 : 50;

const data = pack({ amount: 1, by: 'bench' });
const oneEvent: NewEvent[] = [{ type: 'Incremented', data }];
const tenEvents: NewEvent[] = Array.from({ length: 10 }, () => ({ type: 'Incremented', data }));
const dirs: string[] = [];
const findings: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'thalo-bench-store-'));
  dirs.push(dir);
  return dir;
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')}/s`;
}

function check(label: string, value: number, bar: number, higherIsBetter = true): void {
  const ok = higherIsBetter ? value >= bar : value <= bar;
  const line = `${label}: ${Math.round(value).toLocaleString('en-US')} (bar ${bar.toLocaleString('en-US')}) ${ok ? 'ok' : 'BELOW BAR'}`;
  findings.push(line);
}

function progress(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) return;
  if (done % 1000 === 0 || done === total) process.stdout.write(`\r  ${label}: ${done}/${total}   `);
  if (done === total) process.stdout.write('\r\x1b[K');
}

/** Runs `count` calls of `one(i)` with at most `inFlight` pending; returns the elapsed ms. */
async function inFlightLoop(label: string, count: number, inFlight: number, one: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  let done = 0;
  async function lane(): Promise<void> {
    while (next < count) {
      await one(next++);
      progress(label, ++done, count);
    }
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  return performance.now() - start;
}

async function appendThroughput(store: EventStore): Promise<void> {
  const ms = await inFlightLoop('single-event', SINGLE_APPENDS, IN_FLIGHT, (i) => store.append(`counter-${i % STREAMS}`, oneEvent));
  console.log(`  single-event appends, durable, ${STREAMS} streams, ${IN_FLIGHT} in flight: ${rate(SINGLE_APPENDS, ms)} events`);
  check('durable single-event appends/s', (SINGLE_APPENDS / ms) * 1000, BAR.durableAppends);
}

async function writes(store: EventStore): Promise<void> {
  console.log('\nappends (timed loop):');
  await appendThroughput(store);

  const tenMs = await inFlightLoop('10-event', TEN_EVENT_APPENDS, 100, (i) => store.append(`ten-${i % STREAMS}`, tenEvents));
  console.log(
    `  10-event appends, durable, 100 in flight: ${rate(TEN_EVENT_APPENDS * 10, tenMs)} events (${rate(TEN_EVENT_APPENDS, tenMs)} appends)`,
  );

  // The engine's shape: a worker commits a micro-batch of commands with one appendBatch.
  const batchMs = await inFlightLoop('appendBatch', BATCHES, 8, (b) =>
    store.appendBatch(
      Array.from({ length: BATCH_SIZE }, (_, i) => ({ stream: `batch-${(b * BATCH_SIZE + i) % STREAMS}`, events: oneEvent })),
    ),
  );
  console.log(`  appendBatch of ${BATCH_SIZE} single-event requests, durable, 8 in flight: ${rate(BATCHES * BATCH_SIZE, batchMs)} events`);
}

/**
 * The engine's commit at the HTTP benchmark's scale: one worker's appendBatch of single-event
 * requests, each on a random one of 10,000 streams, in a log that already holds as many events
 * as that benchmark appends. This is where pages written per command decide durable throughput:
 * with an index entry per event, each request changed a scattered page of its own and the disk
 * became the limit (docs/store.md, "Stream reads").
 */
async function appendsAtScale(): Promise<void> {
  const store = EventStore.open({ path: tempDir() });
  try {
    const randomRequests = (count: number) =>
      Array.from({ length: count }, () => ({ stream: `scale-${Math.floor(Math.random() * SCALE_STREAMS)}`, events: oneEvent }));
    while (store.lastPosition() < SCALE_LOG) await store.appendBatch(randomRequests(5_000));
    console.log(
      `\nappends at scale (${SCALE_STREAMS.toLocaleString('en-US')} streams, a log of ${store.lastPosition().toLocaleString('en-US')} events, one batch at a time):`,
    );
    for (const size of [400, 4_000]) {
      const batches = Math.max(5, Math.round((SCALE_BATCHES * 400) / size));
      const start = performance.now();
      for (let b = 0; b < batches; b++) await store.appendBatch(randomRequests(size));
      const ms = performance.now() - start;
      console.log(
        `  appendBatch of ${size.toLocaleString('en-US')} single-event requests on random streams, durable: ${rate(batches * size, ms)} events`,
      );
    }
  } finally {
    await store.close();
  }
}

/** The same writes as a durable single-event append, on bare lmdb + msgpackr, without the store. */
async function plainLmdbLoop(syncMode: 'flushed' | 'sync-commit'): Promise<void> {
  const root = open({ path: tempDir(), maxDbs: 4, overlappingSync: syncMode === 'flushed' });
  const events = root.openDB<Uint8Array, number>('events', { encoding: 'binary' });
  const streams = root.openDB<number, [string, number]>('streams', { encoding: 'ordered-binary' });
  const heads = root.openDB<[number, number], string>('heads', { encoding: 'ordered-binary' });
  const packr = new Packr();
  let position = 0;
  const ms = await inFlightLoop(`plain lmdb ${syncMode}`, SINGLE_APPENDS, IN_FLIGHT, async (i) => {
    const stream = `counter-${i % STREAMS}`;
    await root.transaction(() => {
      const [last, previous] = heads.get(stream) ?? [0, 0];
      const seq = last + 1;
      position++; // single writer here, so no need to read it in the transaction
      events.put(
        position,
        packr.pack({ stream, seq, type: 'Incremented', id: crypto.randomUUID(), data, timestamp: Date.now(), metadata: {}, previous }),
      );
      if (seq % STREAM_INDEX_EVERY === 0) streams.put([stream, seq], position);
      heads.put(stream, [seq, position]);
    });
    if (syncMode === 'flushed') await root.flushed;
  });
  console.log(
    `  plain lmdb + msgpackr, ${syncMode === 'flushed' ? 'overlappingSync, await flushed' : 'overlappingSync off (commit syncs)'}: ${rate(SINGLE_APPENDS, ms)} events`,
  );
  await root.close();
}

async function reads(store: EventStore): Promise<void> {
  for (let i = 0; i < 10; i++)
    await store.append(
      'big',
      Array.from({ length: 1_000 }, () => ({ type: 'Incremented', data })),
    );
  const total = store.lastPosition();
  console.log(`\nreads (tinybench, log of ${total.toLocaleString('en-US')} events):`);
  const bench = new Bench({ time: 1_500, iterations: 5 });
  bench
    .add('readStream, a 10,000-event stream', () => void store.readStream('big'))
    .add(`readAll, full scan of ${total.toLocaleString('en-US')} events`, () => void store.readAll())
    .add('readAll, 1,000 events from the middle', () => void store.readAll({ from: Math.floor(total / 2), limit: 1_000 }))
    .add('streamVersion', () => void store.streamVersion('counter-7'))
    .add('lastPosition', () => void store.lastPosition());
  await bench.run();
  const perCall: Record<string, number> = { 'readStream, a 10,000-event stream': 10_000, 'readAll, 1,000 events from the middle': 1_000 };
  perCall[`readAll, full scan of ${total.toLocaleString('en-US')} events`] = total;
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') {
      console.log(`  ${task.name}: ${result.state}`);
      continue;
    }
    const ms = result.latency.mean;
    const events = perCall[task.name];
    const extra = events === undefined ? `${rate(1, ms)} calls` : `${rate(events, ms)} events, p75 ${result.latency.p75.toFixed(2)} ms`;
    console.log(`  ${task.name}: ${ms.toFixed(ms < 0.1 ? 4 : 2)} ms per call, ${extra}`);
    if (task.name.startsWith('readStream')) check('readStream of 10,000 events, ms (mean)', ms, BAR.readStreamMs, false);
    if (task.name.startsWith('readAll, full')) check('readAll full scan, events/s', (total / ms) * 1000, BAR.readAll);
  }
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} cores, ${cpu[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const store = EventStore.open({ path: tempDir() });
  try {
    await writes(store);
    await appendsAtScale();
    console.log('\nreference, no store (same writes, durable):');
    await plainLmdbLoop('flushed');
    await plainLmdbLoop('sync-commit');
    await reads(store);
  } finally {
    await store.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nbars:');
  for (const line of findings) console.log(`  ${line}`);
  if (findings.some((line) => line.endsWith('BELOW BAR')))
    console.log('\nsome figures are below the bar (see above); the store bench reports them and exits 0');
}

await main();
