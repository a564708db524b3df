// Modules that misbehave against the engine (issue 13, items 10, 11, 15 and 16): a failing
// snapshot is skipped, guest memory is capped and given back, guest logs are limited per call,
// and a module describing names the store refuses is refused at load.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { loadTimeModule } from '../fixtures/load-time-modules.js';
import { settle, startEngine, tempDir } from './helpers.js';

/** A modules directory holding only the hostile fixture. */
async function hostileModules(): Promise<string> {
  const modules = tempDir('thalo-hostile-modules-');
  await buildFixture('hostile', modules);
  return modules;
}

/** Guest log lines as `onGuestLog` receives them, and a way to wait for one. */
function guestLines() {
  const lines: { level: number; message: string }[] = [];
  const waiters: { match: (message: string) => boolean; resolve: () => void }[] = [];
  const onGuestLog = (level: number, message: string) => {
    lines.push({ level, message });
    for (const waiter of waiters.filter((w) => w.match(message))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const waitFor = (match: (message: string) => boolean) =>
    lines.some((l) => match(l.message)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve }));
  return { lines, onGuestLog, waitFor };
}

describe('a module whose thalo_snapshot traps', () => {
  it('still takes every command; the failure is logged once and snapshots stop', async () => {
    const log = guestLines();
    const engine = await startEngine({ modules: await hostileModules(), workers: 1, snapshotEvery: 2, onGuestLog: log.onGuestLog });
    for (let i = 1; i <= 10; i++) {
      const result = await engine.execute('hostile', 'h', 'Ok', {});
      expect(result.version).toBe(i);
    }
    expect((await engine.readStream('hostile', 'h')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await log.waitFor((m) => m.startsWith('thalo_snapshot failed'));
    const failures = log.lines.filter((l) => l.message.startsWith('thalo_snapshot failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      level: 3,
      message: expect.stringContaining('for stream hostile-h: hostile trapped in thalo_snapshot'),
    });
  });
});

describe('guest memory', () => {
  it('is capped per instance; the command past the cap fails with GUEST_MEMORY_EXCEEDED and the instance is replaced', async () => {
    const engine = await startEngine({ modules: await hostileModules(), workers: 1, maxGuestMemoryBytes: 1024 * 1024 });
    // 2 pages, then 4 more per Grow: 6, 10, 14 pages; a fourth Grow would take 18, over 1 MiB.
    for (let i = 0; i < 3; i++) await engine.execute('hostile', 'm', 'Grow', {});
    const over = await settle(engine.execute('hostile', 'm', 'Grow', {}));
    expect(over).toMatchObject({
      ok: false,
      error: { code: 'GUEST_MEMORY_EXCEEDED', message: expect.stringContaining("past the runtime's cap on guest memory, 1 MiB") },
    });
    // The fresh instance has its initial memory again, so three more Grows fit.
    for (let i = 0; i < 3; i++) await engine.execute('hostile', 'm', 'Grow', {});
    expect(await engine.readStream('hostile', 'm')).toHaveLength(6);
  });

  it('refuses a 1 GiB growth under the default cap, and the aggregate serves the next command', async () => {
    const engine = await startEngine({ modules: await hostileModules(), workers: 1 });
    const huge = await settle(engine.execute('hostile', 'g', 'Huge', {}));
    expect(huge).toMatchObject({
      ok: false,
      error: { code: 'GUEST_MEMORY_EXCEEDED', message: expect.stringContaining('it asked for 1 GiB more') },
    });
    expect((await engine.execute('hostile', 'g', 'Ok', {})).version).toBe(1);
  });
});

describe('guest logs', () => {
  it('a module logging a million lines in one command: the command finishes, and at most 100 lines and a summary reach onGuestLog', async () => {
    const log = guestLines();
    const engine = await startEngine({ modules: await hostileModules(), workers: 1, onGuestLog: log.onGuestLog });
    expect((await engine.execute('hostile', 's', 'Spam', {})).version).toBe(1);
    await log.waitFor((m) => m.includes('more log lines of this call were dropped'));
    expect(log.lines.filter((l) => l.message === 'spam')).toHaveLength(100);
    expect(log.lines.filter((l) => l.message !== 'spam')).toEqual([
      { level: 2, message: '999900 more log lines of this call were dropped: a module may log 100 lines per call' },
    ]);
  });
});

describe('names a module describes', () => {
  const bad: [string, { events?: string[]; commands?: string[] }, string][] = [
    ['empty', { events: [''] }, 'event type must not be empty'],
    ['control', { events: ['Went\nWrong'] }, 'event type "Went\\nWrong" contains the control character U+000A at index 4'],
    ['long', { events: ['E'.repeat(300)] }, `event type "${'E'.repeat(77)}..." is 300 bytes in UTF-8, more than the 256 allowed`],
    ['command', { commands: ['Go\u0000'] }, 'command name "Go\\u0000" contains the control character U+0000 at index 2'],
  ];

  it('refuses, at start and at load, a module describing a name the store refuses', async () => {
    const modules = tempDir('thalo-bad-names-');
    mkdirSync(modules, { recursive: true });
    for (const [name, parts] of bad) writeFileSync(join(modules, `${name}.wasm`), await loadTimeModule(parts));
    writeFileSync(join(modules, 'fine.wasm'), await loadTimeModule());
    const engine = await startEngine({ modules, workers: 1 });
    expect(engine.modules().map((m) => m.name)).toEqual(['fine']);
    const refused = engine.refusedModules.map(({ file, error }) => ({ file, error: error as { code: string; message: string } }));
    expect(refused.map((r) => r.file)).toEqual(['command', 'control', 'empty', 'long'].map((n) => join(modules, `${n}.wasm`)));
    for (const [name, , problem] of bad) {
      const file = join(modules, `${name}.wasm`);
      expect(refused.find((r) => r.file === file)?.error).toMatchObject({
        code: 'MODULE_INVALID',
        message: `${file}: thalo_describe lists a name the store refuses: ${problem}`,
      });
      const loaded = await settle(engine.loadModule(file));
      expect(loaded).toMatchObject({ ok: false, error: { code: 'MODULE_INVALID', message: expect.stringContaining(problem) } });
    }
    expect(engine.modules().map((m) => m.name)).toEqual(['fine']);
  });
});
