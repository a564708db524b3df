// A third language: the counter in C (test/fixtures/c/counter.c), built here with clang for
// wasm32 with no libc and no SDK. It runs the counter's example tests and rebuilds the
// AssemblyScript counter's events and snapshot (and they its), so the ABI holds nothing of
// AssemblyScript or Rust. Needs clang-14 and lld-14 (Debian packages, installed by .ci/run);
// THALO_SKIP_C=1 skips this file where they are missing.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModule } from '../../src/wasm/index.js';
import type { AggregateModule, GuestEvent } from '../../src/wasm/index.js';
import { Given, emitted, given, rejected } from './scenario.js';

const CLANG = process.env.THALO_CLANG ?? (existsSync('/usr/bin/clang-14') ? '/usr/bin/clang-14' : 'clang');
const dir = mkdtempSync(join(tmpdir(), 'thalo-c-counter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.env.THALO_SKIP_C === '1')('the counter in C', () => {
  let c: AggregateModule;
  let as: AggregateModule;
  beforeAll(async () => {
    const file = join(dir, 'counter.wasm');
    try {
      await promisify(execFile)(CLANG, [
        '--target=wasm32',
        '-O2',
        '-nostdlib',
        '-Wl,--no-entry',
        '-Wall',
        '-Werror',
        'test/fixtures/c/counter.c',
        '-o',
        file,
      ]);
    } catch (error) {
      throw new Error(
        `${CLANG} could not build test/fixtures/c/counter.c (${(error as Error).message.trim()}); install clang-14 and lld-14 (apt-get install -y clang-14 lld-14), or set THALO_SKIP_C=1 to skip this test`,
        { cause: error },
      );
    }
    c = await loadModule(file);
    as = await loadModule(join('modules', 'counter.wasm'));
  });

  it('imports nothing and exports ABI v1 with snapshots', async () => {
    const module = new WebAssembly.Module(await readFile(join(dir, 'counter.wasm')));
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    expect(c.description).toEqual({ name: 'counter', version: '1.0.0', commands: ['Increment'], events: ['Incremented'] });
  });

  it("answers the counter's example tests", () => {
    expect(given(c).when('Increment', { amount: 3 })).toEqual(emitted(['Incremented', { amount: 3 }]));
    expect(given(c, ['Incremented', { amount: 2 }], ['Incremented', { amount: 5 }]).snapshot()).toEqual({ count: 7 });
    expect(given(c).when('Increment', { amount: 0 })).toMatchObject(rejected('INVALID_AMOUNT'));
    expect(given(c).when('Increment', { amount: -4 })).toMatchObject(rejected('INVALID_AMOUNT'));
    expect(given(c).when('Increment', { amount: 'five' })).toMatchObject(rejected('INVALID_PAYLOAD'));
    expect(given(c).when('Increment', { amount: 2 ** 40 })).toEqual(emitted(['Incremented', { amount: 2 ** 40 }]));
  });

  it('rebuilds the AssemblyScript counter from its events and snapshot, and is rebuilt by it', () => {
    for (const [writer, reader] of [
      [as, c],
      [c, as],
    ]) {
      const live = given(writer!);
      const events: GuestEvent[] = [];
      for (const amount of [1, 2 ** 33, 7, 2 ** 40]) events.push(...live.accept('Increment', { amount }));
      const replayed = given(reader!);
      replayed.instance.apply(replayed.handle, events);
      const restored = new Given(replayed.instance, replayed.instance.restore('test', live.instance.snapshot(live.handle)));
      expect(replayed.snapshot()).toEqual({ count: 1 + 2 ** 33 + 7 + 2 ** 40 });
      expect(restored.snapshot()).toEqual(live.snapshot());
      expect(restored.when('Increment', { amount: 1 })).toEqual(live.when('Increment', { amount: 1 }));
    }
  });
});
