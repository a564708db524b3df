// What loading and running a module may cost the host (issue 13, items 7, 8, 10 and 11): guest
// code at load runs on a thread of its own with a deadline, only regular files are read, guest
// memory is capped, and guest logs are limited per call.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModule, loadModule } from '../../src/wasm/index.js';
import type { AggregateModule } from '../../src/wasm/index.js';
import { compileWat } from '../fixtures/build-fixtures.js';
import { loadTimeModule } from '../fixtures/load-time-modules.js';
import type { LoopIn } from '../fixtures/load-time-modules.js';
import { emitted, given } from './scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'thalo-module-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hostileBytes: Uint8Array;
beforeAll(async () => {
  hostileBytes = await compileWat('hostile');
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('the module was accepted');
}

describe('guest code that runs at load', () => {
  const cases: [LoopIn, string][] = [
    ['start', 'the start function did not return within 300 ms'],
    ['thalo_abi_version', 'thalo_abi_version did not return within 300 ms'],
    ['thalo_describe', 'thalo_describe did not return within 300 ms'],
  ];
  for (const [loopIn, message] of cases) {
    it(`runs off this thread: a module whose ${loopIn} loops is refused, naming it`, async () => {
      const error = await refusal(compileModule(await loadTimeModule({ loopIn }), 'spin.wasm', { validationTimeoutMs: 300 }));
      expect(error).toMatchObject({ code: 'MODULE_INVALID', message: `spin.wasm: ${message}` });
    });
  }

  it('loads a module whose load-time code returns', async () => {
    const module = await compileModule(await loadTimeModule(), 'fine.wasm', { validationTimeoutMs: 300 });
    expect(module.description).toEqual({ name: 't', version: '1', commands: ['Go'], events: ['Went'] });
  });
});

describe('module files', () => {
  it('refuses a FIFO, a symlink to /dev/zero, a directory and a file over the limit, without blocking', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo.wasm')]);
    symlinkSync('/dev/zero', join(dir, 'zero.wasm'));
    mkdirSync(join(dir, 'folder.wasm'));
    writeFileSync(join(dir, 'big.wasm'), hostileBytes);
    const refusals = await Promise.all([
      refusal(loadModule(join(dir, 'fifo.wasm'))),
      refusal(loadModule(join(dir, 'zero.wasm'))),
      refusal(loadModule(join(dir, 'folder.wasm'))),
      refusal(loadModule(join(dir, 'big.wasm'), { maxFileBytes: 100 })),
    ]);
    expect(refusals.map((e) => e.code)).toEqual(['MODULE_INVALID', 'MODULE_INVALID', 'MODULE_INVALID', 'MODULE_INVALID']);
    expect(refusals.map((e) => e.message)).toEqual([
      `${join(dir, 'fifo.wasm')}: is a FIFO, not a regular file: only regular files are loaded`,
      `${join(dir, 'zero.wasm')}: is a character device, not a regular file: only regular files are loaded`,
      `${join(dir, 'folder.wasm')}: is a directory, not a regular file: only regular files are loaded`,
      `${join(dir, 'big.wasm')}: is ${hostileBytes.length} bytes; the largest module is 100 bytes`,
    ]);
  });

  it('loads a symlink to a regular module file', async () => {
    writeFileSync(join(dir, 'real.wasm'), hostileBytes);
    symlinkSync(join(dir, 'real.wasm'), join(dir, 'hostile.wasm'));
    expect((await loadModule(join(dir, 'hostile.wasm'))).description.commands).toContain('Grow');
  });
});

describe('guest memory', () => {
  let capped: AggregateModule;
  beforeAll(async () => {
    capped = await compileModule(hostileBytes, 'hostile.wasm', { maxMemoryBytes: 1024 * 1024 });
  });

  it('is capped: growing past the cap fails the command with GUEST_MEMORY_EXCEEDED, naming the cap', () => {
    const state = given(capped);
    // 2 pages, then 4 more per Grow: 6, 10, 14; the next would be 18 pages, over the 16 of 1 MiB.
    for (let i = 0; i < 3; i++) expect(state.when('Grow', {})).toEqual(emitted(['Done', null]));
    expect(state.instance.memoryBytes).toBe(14 * 65536);
    let error: { code?: string; message?: string; data?: unknown } = {};
    try {
      state.when('Grow', {});
    } catch (caught) {
      error = caught as typeof error;
    }
    expect(error.code).toBe('GUEST_MEMORY_EXCEEDED');
    expect(error.message).toBe(
      "hostile ran out of memory in thalo_handle (command Grow): it asked for 256 KiB more with 896 KiB in use, past the runtime's cap on guest memory, 1 MiB (unreachable)",
    );
    expect(error.data).toMatchObject({ limit: 1024 * 1024, used: 14 * 65536, requested: 4 * 65536, poisoned: true });
    expect(state.instance.poisoned).toBe(true);
    // A fresh instance starts from the module's initial memory again.
    const fresh = given(capped);
    expect(fresh.instance.memoryBytes).toBe(2 * 65536);
    expect(fresh.when('Grow', {})).toEqual(emitted(['Done', null]));
  });

  it('refuses one large growth as well, with the default cap of 256 MiB', async () => {
    const module = await compileModule(hostileBytes, 'hostile.wasm');
    const state = given(module);
    expect(() => state.when('Huge', {})).toThrow(
      /^hostile ran out of memory in thalo_handle \(command Huge\): it asked for 1 GiB more with 128 KiB in use, past the runtime's cap on guest memory, 256 MiB/,
    );
    expect(state.instance.memoryBytes).toBe(2 * 65536);
  });

  it("keeps a module's own maximum when it is the lower one", async () => {
    const own = await compileModule(await loadTimeModule({ pages: 1, maxPages: 3 }), 'small.wasm', { maxMemoryBytes: 1024 * 1024 });
    expect(own.facts.memoryLimit).toEqual({ bytes: 3 * 65536, setBy: 'module' });
    const capped = await compileModule(await loadTimeModule({ pages: 1, maxPages: 300 }), 'small.wasm', { maxMemoryBytes: 1024 * 1024 });
    expect(capped.facts.memoryLimit).toEqual({ bytes: 1024 * 1024, setBy: 'runtime' });
  });

  it('refuses a module whose initial memory is over the cap', async () => {
    const error = await refusal(compileModule(await loadTimeModule({ pages: 20 }), 'wide.wasm', { maxMemoryBytes: 1024 * 1024 }));
    expect(error).toMatchObject({
      code: 'MODULE_INVALID',
      message: "wide.wasm: its memory starts at 20 pages (1.3 MiB), more than the runtime's cap on guest memory, 1 MiB",
    });
  });
});

describe('guest logs', () => {
  let module: AggregateModule;
  beforeAll(async () => {
    module = await compileModule(hostileBytes, 'hostile.wasm');
  });

  it('passes on at most 100 lines per call, then one line saying how many were dropped', () => {
    const lines: [number, string][] = [];
    const state = given(module.instantiate({ log: (level, message) => lines.push([level, message]) }));
    expect(state.when('Spam', {})).toEqual(emitted(['Done', null]));
    expect(lines).toHaveLength(101);
    expect(lines.slice(0, 100).every(([level, message]) => level === 1 && message === 'spam')).toBe(true);
    expect(lines[100]).toEqual([2, '999900 more log lines of this call were dropped: a module may log 100 lines per call']);
    // The next call has a budget of its own.
    lines.length = 0;
    state.when('Spam', {});
    expect(lines).toHaveLength(101);
  });

  it('cuts a long line at 4 KiB, saying so', () => {
    const lines: string[] = [];
    const state = given(module.instantiate({ log: (_level, message) => lines.push(message) }));
    state.when('Long', {});
    expect(lines).toEqual([`${'x'.repeat(4096)} [cut: the line has 10000 bytes, the first 4096 are shown]`]);
  });
});
