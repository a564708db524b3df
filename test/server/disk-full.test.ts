/**
 * The runtime as a process with its data directory on a 20 MB tmpfs that fills up: it stays up,
 * refuses writes with 507 STORE_FULL while serving every read, and takes writes again once space
 * returns, without a restart; nothing of a refused write is ever in the log.
 *
 * Mounting needs root (or CAP_SYS_ADMIN); elsewhere the test fails saying so, unless
 * THALO_SKIP_TMPFS=1 (see the README) skips it on purpose.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseReader } from './sse-reader.js';
import { execute, request, startRuntime, tempRoot } from './runtime-process.js';
import type { LogLine, RuntimeProcess } from './runtime-process.js';

const SKIP = process.env.THALO_SKIP_TMPFS === '1';
/** Room left after filling: less than one big event needs, so its commit runs out mid-write. */
const LEFT_FREE = 128 * 1024;
/** A todo title too big for the room left (and within the 1 MiB payload and event limits). */
const BIG = 'x'.repeat(400_000);

interface StoredEvent {
  position: number;
  id: string;
  stream: string;
}

type Answer = Awaited<ReturnType<typeof request>>;

function mountTmpfs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    const reason = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    throw new Error(
      `cannot mount a 20 MB tmpfs at ${dir} (${reason}): this test needs root (or CAP_SYS_ADMIN) to mount tmpfs; set THALO_SKIP_TMPFS=1 to skip it`,
      { cause: error },
    );
  }
}

/** Fills the file system of `dir` with one file, then gives `leave` bytes back. Returns the file. */
function fill(dir: string, leave: number): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  let size = 0;
  try {
    for (const chunk of [Buffer.alloc(1024 * 1024, 1), Buffer.alloc(4096, 1)]) {
      try {
        for (;;) size += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
    ftruncateSync(fd, size - leave);
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Every event of the log, read page by page. */
async function readLog(url: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let from = 1; ;) {
    const page = await request(`${url}/v1/events?from=${from}&limit=1000`);
    expect(page.status).toBe(200);
    if (page.body.events.length === 0) return events;
    events.push(...page.body.events);
    from = page.body.next;
  }
}

const addTodo = (url: string, list: string, id: string) => execute(url, 'todos', list, 'AddTodo', { id, title: BIG });
const batch = (url: string, commands: object[]) =>
  request(`${url}/v1/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ commands }) });

describe.skipIf(SKIP)('a full disk (data directory on a 20 MB tmpfs)', () => {
  let dirs: ReturnType<typeof tempRoot>;
  let runtime: RuntimeProcess | undefined;
  let mounted = false;
  let sse: SseReader | undefined;

  const acknowledged: StoredEvent[] = [];
  const refused: Answer[] = [];
  const batchRefused: { status: number; error: { code: string; message: string } }[] = [];
  let whileFull: { log: StoredEvent[]; stream: Answer; healthz: Answer; readyz: Answer; sseIds: number[]; alive: boolean };
  let afterFreeing: Answer;
  let logAfter: StoredEvent[];
  let logAfterRestart: StoredEvent[];
  let exitCode: number | null;
  /** Every log line of the runtime that saw the disk fill, up to its exit. */
  let firstLogs: LogLine[];

  beforeAll(async () => {
    dirs = tempRoot();
    mountTmpfs(dirs.data);
    mounted = true;
    runtime = await startRuntime({ root: dirs });
    const { url } = runtime;
    for (let i = 0; i < 5; i++) {
      const { status, body } = await execute(url, 'counter', `c${i}`, 'Increment', { amount: 1 });
      expect(status).toBe(200);
      acknowledged.push(...body.events);
    }
    const kept = await addTodo(url, 'kept', 'k1');
    expect(kept.status).toBe(200);
    acknowledged.push(...kept.body.events);

    const filler = fill(dirs.data, LEFT_FREE);
    // Twice alone and once in a batch: the first runs out of room in the middle of its write, the
    // later ones find none at all; none may end the process, hang, or leave anything behind.
    refused.push(await addTodo(url, 'full', 'f1'));
    const answer = await batch(url, [
      { aggregate: 'todos', id: 'full', command: 'AddTodo', payload: { id: 'f2', title: BIG } },
      { aggregate: 'todos', id: 'full-b', command: 'AddTodo', payload: { id: 'f3', title: BIG } },
    ]);
    expect(answer.status).toBe(200);
    batchRefused.push(...answer.body.results);
    refused.push(await addTodo(url, 'full', 'f4'));

    sse = new SseReader(`${url}/v1/subscribe?from=1`);
    await sse.untilCount(acknowledged.length);
    whileFull = {
      log: await readLog(url),
      stream: await request(`${url}/v1/aggregates/counter/c0/events`),
      healthz: await request(`${url}/healthz`),
      readyz: await request(`${url}/readyz`),
      sseIds: sse.ids,
      alive: runtime.child.exitCode === null && runtime.child.signalCode === null,
    };

    unlinkSync(filler);
    afterFreeing = await addTodo(url, 'after', 'a1');
    await sse.untilCount(acknowledged.length + 1);
    logAfter = await readLog(url);
    await sse.close();

    exitCode = await runtime.stop();
    firstLogs = runtime.logs;
    runtime = await startRuntime({ root: dirs });
    logAfterRestart = await readLog(runtime.url);
  }, 30_000);

  afterAll(async () => {
    await sse?.close();
    if (runtime && runtime.child.exitCode === null && runtime.child.signalCode === null) await runtime.stop('SIGKILL');
    if (mounted) execFileSync('umount', [dirs.data]);
  });

  it('refuses each write that does not fit with 507 STORE_FULL naming the data directory, and stays up', () => {
    for (const answer of refused) {
      expect(answer.status).toBe(507);
      expect(answer.body.code).toBe('STORE_FULL');
      expect(answer.body.message).toContain(dirs.data);
    }
    expect(batchRefused.map((r) => [r.status, r.error.code])).toEqual([
      [507, 'STORE_FULL'],
      [507, 'STORE_FULL'],
    ]);
    expect(whileFull.alive).toBe(true);
    // No worker died either: lmdb-js's failed commit once left a rejection nobody handled.
    expect(firstLogs.filter((line) => line.msg.includes('worker thread failed'))).toEqual([]);
  });

  it('serves every read while full: the log, a stream, a live subscription, the probes', () => {
    expect(whileFull.log.map((e) => e.id)).toEqual(acknowledged.map((e) => e.id));
    expect(whileFull.stream.status).toBe(200);
    expect(whileFull.stream.body.events).toHaveLength(1);
    expect(whileFull.sseIds).toEqual(acknowledged.map((e) => e.position));
    expect(whileFull.healthz.status).toBe(200);
    // Ready: reads are served, and no other runtime could take this data directory's writes.
    expect(whileFull.readyz.status).toBe(200);
  });

  it('takes writes again once there is room, without a restart', () => {
    expect(afterFreeing.status).toBe(200);
    expect(afterFreeing.body.events[0].position).toBe(acknowledged.length + 1);
  });

  it('keeps the log dense, with no event of a refused write, also on disk after a restart', () => {
    expect(exitCode).toBe(0);
    for (const log of [logAfter, logAfterRestart]) {
      expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
      expect(log.map((e) => e.id)).toEqual([...acknowledged.map((e) => e.id), afterFreeing.body.events[0].id]);
      expect(log.filter((e) => e.stream.startsWith('todos-full'))).toEqual([]);
    }
  });
});
