import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/engine/shard-router.js';
import { EventStore } from '../../src/store/index.js';
import { STEP_COMMITTING } from '../../src/protocol/progress-board.js';
import type { ProgressBoard } from '../../src/protocol/progress-board.js';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { EXAMPLE_MODULES, settle, startEngine, tempDir } from './helpers.js';

/** A modules dir with the examples and the runaway fixture (Loop, Trap, Ok). */
let modules: string;
afterAll(() => rmSync(modules, { recursive: true, force: true }));
beforeAll(async () => {
  modules = mkdtempSync(join(tmpdir(), 'thalo-fault-modules-'));
  for (const name of ['counter', 'bank_account']) copyFileSync(join(EXAMPLE_MODULES, `${name}.wasm`), join(modules, `${name}.wasm`));
  await buildFixture('runaway', modules);
});

describe('Engine: faults stay local', () => {
  it('a trap fails its command with GUEST_TRAP, and the aggregate serves the next command', async () => {
    const engine = await startEngine({ modules, workers: 1 });
    await engine.execute('runaway', 'r', 'Ok');
    const trap = await settle(engine.execute('runaway', 'r', 'Trap'));
    expect(!trap.ok && trap.error.code).toBe('GUEST_TRAP');
    expect(!trap.ok && trap.error.message).toContain('Trap');
    const after = await engine.execute('runaway', 'r', 'Ok');
    expect(after.version).toBe(2);
  });

  it('a command that never returns times out; its worker is replaced; the other commands of its batch are retried; other shards carry on', async () => {
    const data = tempDir();
    const engine = await startEngine({ modules, data, workers: 1, commandTimeoutMs: 300 });
    // One worker, so these share one shard and one batch with the runaway command in the middle.
    const before = Array.from({ length: 5 }, (_, i) => engine.execute('counter', `b${i}`, 'Increment', { amount: 1 }));
    const loop = settle(engine.execute('runaway', 'x', 'Loop'));
    const afterLoop = Array.from({ length: 5 }, (_, i) => engine.execute('counter', `a${i}`, 'Increment', { amount: 1 }));
    const timedOut = await loop;
    expect(timedOut.ok).toBe(false);
    if (!timedOut.ok) {
      expect(timedOut.error.code).toBe('COMMAND_TIMEOUT');
      expect(timedOut.error.message).toContain('Loop');
    }
    const results = await Promise.all([...before, ...afterLoop]);
    expect(results.every((r) => r.version === 1)).toBe(true);
    // The replacement worker serves new commands too.
    await engine.execute('counter', 'later', 'Increment', { amount: 1 });
    await engine.stop();
    const store = EventStore.open({ path: data });
    const log = store.readAll();
    await store.close();
    // Each acknowledged command exactly once: the retried ones were not written twice.
    expect(log).toHaveLength(11);
    expect(new Set(log.map((e) => e.stream)).size).toBe(11);
  });

  it('a worker killed while it commits: commands with a command id are retried and stored once; the others fail with WORKER_FAILED and are whole or absent', async () => {
    const data = tempDir();
    const engine = await startEngine({ data, workers: 1 });
    await engine.execute('counter', 'warm', 'Increment', { amount: 1 });
    // Fault injection reaches into the engine: the progress board says when the worker's commit
    // began, and Piscina's thread list gives the worker to kill.
    const internals = engine as unknown as { dispatcher: { board: ProgressBoard }; pool: { threads: { terminate(): Promise<number> }[] } };
    const failedBatches: { withId: string[]; withoutId: string[] }[] = [];
    const withIds: string[] = [];
    for (let attempt = 0; attempt < 10 && failedBatches.length === 0; attempt++) {
      const ids = Array.from({ length: 2_000 }, (_, i) => `k${attempt}-${i}`);
      const outcomes = ids.map((id, i) =>
        settle(engine.execute('counter', id, 'Increment', { amount: 1 }, i % 2 === 0 ? { commandId: `cmd-${id}` } : {})),
      );
      // The batch leaves on the next turn; then spin without yielding, so the commit cannot
      // begin and end unseen, and kill the worker as soon as it began.
      await new Promise((resolve) => setImmediate(resolve));
      const board = internals.dispatcher.board;
      const deadline = Date.now() + 5_000;
      while (board.read(0).step !== STEP_COMMITTING && Date.now() < deadline);
      await internals.pool.threads[0]!.terminate();
      const settled = await Promise.all(outcomes);
      withIds.push(...ids.filter((_, i) => i % 2 === 0));
      // Every command with an id is answered: it was retried on the replacement worker.
      expect(settled.filter((_, i) => i % 2 === 0).every((o) => o.ok)).toBe(true);
      const failed = settled.filter((o) => !o.ok).map((o) => (!o.ok ? o.error.code : ''));
      if (failed.length === 0) continue; // the commit finished before the kill: try again
      expect(new Set(failed)).toEqual(new Set(['WORKER_FAILED']));
      failedBatches.push({ withId: ids.filter((_, i) => i % 2 === 0), withoutId: ids.filter((_, i) => i % 2 === 1) });
    }
    expect(failedBatches.length, 'no kill landed during a commit in 10 tries').toBe(1);
    await engine.stop();
    const store = EventStore.open({ path: data });
    try {
      // Retried commands with an id: stored exactly once, whether or not the killed commit landed.
      expect(withIds.filter((id) => store.streamVersion(`counter-${id}`) !== 1)).toEqual([]);
      // The others were in one transaction: all of them stored once, or none.
      const versions = new Set(failedBatches[0]!.withoutId.map((id) => store.streamVersion(`counter-${id}`)));
      expect([...versions].length).toBe(1);
      expect([0, 1]).toContain([...versions][0]);
      const log = store.readAll();
      expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
    } finally {
      await store.close();
    }
  });

  it('keeps serving other shards while one is stuck', async () => {
    const engine = await startEngine({ modules, workers: 2, commandTimeoutMs: 2_000 });
    const stuck = shardOf('runaway', 'stuck', 2);
    const ids = Array.from({ length: 100 }, (_, i) => `free-${i}`)
      .filter((id) => shardOf('counter', id, 2) !== stuck)
      .slice(0, 10);
    let loopSettled = false;
    const loop = settle(engine.execute('runaway', 'stuck', 'Loop')).then((outcome) => {
      loopSettled = true;
      return outcome;
    });
    for (const id of ids) await engine.execute('counter', id, 'Increment', { amount: 1 });
    expect(loopSettled).toBe(false);
    expect(await loop).toMatchObject({ ok: false, error: { code: 'COMMAND_TIMEOUT' } });
  });
});

describe('Engine: guest logs', () => {
  it("hands the modules' thalo.log lines to onGuestLog", async () => {
    const dir = tempDir('thalo-log-');
    await buildFixture('pinger', dir);
    const lines: string[] = [];
    const engine = await startEngine({
      modules: dir,
      workers: 1,
      onGuestLog: (level, message, module) => lines.push(`${level} ${module.split('/').pop()} ${message}`),
    });
    await engine.execute('pinger', 'p', 'Ping', {});
    await expect.poll(() => lines).toEqual(['1 pinger.wasm new state']);
  });
});

describe('Engine: modules at run time', () => {
  it('serves a replaced module for new commands and stops serving an unloaded one', async () => {
    const dir = tempDir('thalo-reload-');
    copyFileSync(join(EXAMPLE_MODULES, 'counter.wasm'), join(dir, 'counter.wasm'));
    const engine = await startEngine({ modules: dir, workers: 2 });
    await engine.execute('counter', 'k', 'Increment', { amount: 1 });
    // Replace "counter" by a module with other commands: later commands see the new one.
    copyFileSync(join(EXAMPLE_MODULES, 'bank_account.wasm'), join(dir, 'counter.wasm'));
    const inFlight = engine.execute('counter', 'k2', 'Increment', { amount: 1 });
    const loaded = await engine.loadModule(join(dir, 'counter.wasm'));
    expect(loaded.description.commands).toContain('OpenAccount');
    expect((await inFlight).version).toBe(1);
    const opened = await engine.execute('counter', 'acct', 'OpenAccount', { initial_balance: 3 });
    expect(opened.events[0]!.type).toBe('AccountOpened');
    const old = await settle(engine.execute('counter', 'k', 'Increment', { amount: 1 }));
    expect(!old.ok && old.error.code).toBe('UNKNOWN_COMMAND');

    const bad = await settle(engine.loadModule(join(EXAMPLE_MODULES, '..', 'package.json')));
    expect(!bad.ok && bad.error.code).toBe('MODULE_INVALID');
    expect((await engine.execute('counter', 'acct', 'Deposit', { amount: 1 })).version).toBe(2);

    expect(await engine.unloadModule('counter')).toBe(true);
    const gone = await settle(engine.execute('counter', 'acct', 'Deposit', { amount: 1 }));
    expect(!gone.ok && gone.error.code).toBe('AGGREGATE_NOT_FOUND');
  });
});
