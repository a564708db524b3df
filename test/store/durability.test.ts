/**
 * Durable on resolve (design invariant 4): an append resolves only once its transaction is on
 * disk. Checked from the outside: a child process runs the store with every fsync/fdatasync
 * slowed down by an LD_PRELOAD shim (fixtures/slow-sync.c, compiled here with the system C
 * compiler), and every write must take at least that long. Without the wait for the sync (e.g.
 * an environment opened with `noSync`), a write takes well under a millisecond and this fails.
 * Skipped where there is no C compiler or no LD_PRELOAD (not Linux).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nextMessage, startChild } from './fixtures/child-process.js';
import { event, onCleanup, openStore, tempDir } from './helpers.js';

const SLOW_SYNC_MS = 100;

function buildShim(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'thalo-slow-sync-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const library = join(dir, 'slow-sync.so');
  try {
    const source = fileURLToPath(new URL('./fixtures/slow-sync.c', import.meta.url));
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, source, '-ldl'], { stdio: 'ignore' });
    return library;
  } catch {
    return undefined;
  }
}

const shim = buildShim();

describe('durability', () => {
  it.skipIf(shim === undefined).each([
    ['through lmdb-js', []],
    ["on its own thread (commitOnThread, as the engine's workers)", ['on-thread']],
  ])("'durable': every write resolves only after its sync, committed %s", async (_, extra) => {
    const child = startChild('durability-probe.ts', [tempDir(), 'durable', ...extra], {
      LD_PRELOAD: shim!,
      SLOW_SYNC_US: String(SLOW_SYNC_MS * 1000),
    });
    onCleanup(() => child.kill());
    const { fdatasyncMs, writesMs } = await nextMessage<{ fdatasyncMs: number; writesMs: number[] }>(child);
    expect(fdatasyncMs, 'the shim slows fdatasync down').toBeGreaterThanOrEqual(SLOW_SYNC_MS * 0.9);
    for (const ms of writesMs) expect(ms).toBeGreaterThanOrEqual(SLOW_SYNC_MS * 0.9);
  });

  it("'relaxed' is accepted and stores like 'durable' (today the same commit path)", async () => {
    const store = openStore({ durability: 'relaxed' });
    await expect(store.append('s', [event('1')])).resolves.toMatchObject({ version: 1 });
    expect(store.readStream('s')).toHaveLength(1);
  });
});
