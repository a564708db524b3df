/**
 * Module files that used to freeze `thalo-runtime` (issue 13, items 7, 8, 11 and 15), against the
 * runtime as a process: modules whose start function, `thalo_abi_version` or `thalo_describe`
 * never return, a FIFO, a symlink to /dev/zero and a directory named `*.wasm`, a module
 * describing event types the store refuses, and a guest that logs a million lines. At start the
 * runtime listens and logs each refusal; while it runs, each is refused while `/healthz`,
 * commands and uploads go on; SIGTERM then stops it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { loadTimeModule } from '../fixtures/load-time-modules.js';
import { execute, request, startRuntime, tempRoot } from './runtime-process.js';
import type { LogLine, RuntimeProcess } from './runtime-process.js';

const TIMEOUT_MS = 1500;
let runtime: RuntimeProcess;

/** Files that are no modules: created in `dir` as `<prefix>fifo.wasm`, `<prefix>zero.wasm`, `<prefix>folder.wasm`. */
function oddFiles(dir: string, prefix: string): string[] {
  execFileSync('mkfifo', [join(dir, `${prefix}fifo.wasm`)]);
  symlinkSync('/dev/zero', join(dir, `${prefix}zero.wasm`));
  mkdirSync(join(dir, `${prefix}folder.wasm`));
  return [`${prefix}fifo`, `${prefix}zero`, `${prefix}folder`];
}

beforeAll(async () => {
  const root = tempRoot();
  await buildFixture('hostile', root.modules);
  writeFileSync(join(root.modules, 'spin_start.wasm'), await loadTimeModule({ loopIn: 'start' }));
  writeFileSync(join(root.modules, 'spin_describe.wasm'), await loadTimeModule({ loopIn: 'thalo_describe' }));
  writeFileSync(join(root.modules, 'bad_type.wasm'), await loadTimeModule({ events: ['Went\u0007'] }));
  oddFiles(root.modules, 'start_');
  runtime = await startRuntime({ root, args: ['--module-validation-timeout', String(TIMEOUT_MS)] });
});

const refusalOf = (name: string) => (l: LogLine) => l.msg.startsWith('refused module') && l.module === name;

describe('at start', () => {
  it('listens, serves the good modules, and logs and lists each refusal', async () => {
    const refused = ['bad_type', 'spin_describe', 'spin_start', 'start_fifo', 'start_folder', 'start_zero'];
    const lines = refused.map((name) => runtime.logs.find(refusalOf(name)));
    expect(lines.map((l) => l?.code)).toEqual(refused.map(() => 'MODULE_INVALID'));
    expect(lines.map((l) => l?.error)).toEqual([
      'modules/bad_type.wasm: thalo_describe lists a name the store refuses: event type "Went\\u0007" contains the control character U+0007 at index 4',
      `modules/spin_describe.wasm: thalo_describe did not return within ${TIMEOUT_MS} ms`,
      `modules/spin_start.wasm: the start function did not return within ${TIMEOUT_MS} ms`,
      'modules/start_fifo.wasm: is a FIFO, not a regular file: only regular files are loaded',
      'modules/start_folder.wasm: is a directory, not a regular file: only regular files are loaded',
      'modules/start_zero.wasm: is a character device, not a regular file: only regular files are loaded',
    ]);
    const modules = await request(`${runtime.url}/v1/modules`);
    expect(modules.body.modules.map((m: { name: string }) => m.name)).toEqual(['bank_account', 'counter', 'hostile', 'inventory', 'todos']);
    expect(modules.body.refused.map((r: { file: string }) => r.file).sort()).toEqual(refused.map((name) => `modules/${name}.wasm`));
    expect((await execute(runtime.url, 'counter', 'c', 'Increment', { amount: 1 })).status).toBe(200);
  });
});

describe('while running', () => {
  it('refuses an upload whose thalo_describe never returns, answering /healthz and commands meanwhile', async () => {
    let settled = false;
    const upload = request(`${runtime.url}/v1/modules/spin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: await loadTimeModule({ loopIn: 'thalo_describe' }),
    }).finally(() => {
      settled = true;
    });
    const health = await request(`${runtime.url}/healthz`);
    const command = await execute(runtime.url, 'counter', 'during-upload', 'Increment', { amount: 1 });
    expect([health.status, command.status, settled]).toEqual([200, 200, false]);
    const { status, body } = await upload;
    expect([status, body.code, body.message]).toEqual([
      400,
      'MODULE_INVALID',
      `modules/spin.wasm: thalo_describe did not return within ${TIMEOUT_MS} ms`,
    ]);
  });

  it('refuses uploads whose start function or thalo_abi_version never return', async () => {
    for (const [loopIn, what] of [
      ['start', 'the start function'],
      ['thalo_abi_version', 'thalo_abi_version'],
    ] as const) {
      const { status, body } = await request(`${runtime.url}/v1/modules/spin`, {
        method: 'PUT',
        headers: { 'content-type': 'application/wasm' },
        body: await loadTimeModule({ loopIn }),
      });
      expect([status, body.code, body.message]).toEqual([
        400,
        'MODULE_INVALID',
        `modules/spin.wasm: ${what} did not return within ${TIMEOUT_MS} ms`,
      ]);
    }
  });

  it('refuses a looping module dropped into the directory, and odd files, then still loads and uploads', async () => {
    const mark = runtime.logs.length;
    const after = (match: (l: LogLine) => boolean) => runtime.waitForLog((l) => runtime.logs.indexOf(l) >= mark && match(l), 20_000);
    writeFileSync(join(runtime.modules, '.spin_abi.tmp'), await loadTimeModule({ loopIn: 'thalo_abi_version' }));
    renameSync(join(runtime.modules, '.spin_abi.tmp'), join(runtime.modules, 'spin_abi.wasm'));
    const odd = oddFiles(runtime.modules, 'late_');
    for (const name of ['spin_abi', ...odd]) await after(refusalOf(name));
    expect(runtime.logs.find(refusalOf('spin_abi'))?.error).toBe(
      `modules/spin_abi.wasm: thalo_abi_version did not return within ${TIMEOUT_MS} ms`,
    );
    expect((await request(`${runtime.url}/healthz`)).status).toBe(200);

    // Neither a later file nor an upload is blocked by them.
    renameSync(join(runtime.modules, 'todos.wasm'), join(runtime.modules, 'tasks.wasm'));
    await after((l) => l.msg === 'loaded module from file' && l.module === 'tasks');
    const upload = await request(`${runtime.url}/v1/modules/clicks`, {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: readFileSync(join(runtime.modules, 'counter.wasm')),
    });
    expect(upload.status).toBe(200);
    expect((await execute(runtime.url, 'clicks', 'k', 'Increment', { amount: 2 })).status).toBe(200);
  });

  it('refuses an upload describing an event type of 300 bytes', async () => {
    const { status, body } = await request(`${runtime.url}/v1/modules/long_type`, {
      method: 'PUT',
      headers: { 'content-type': 'application/wasm' },
      body: await loadTimeModule({ events: ['E'.repeat(300)] }),
    });
    expect([status, body.code]).toEqual([400, 'MODULE_INVALID']);
    expect(body.message).toContain('is 300 bytes in UTF-8, more than the 256 allowed');
  });

  it('answers a command that logs a million lines, and logs at most 100 of them and a summary', async () => {
    const mark = runtime.logs.length;
    const { status } = await execute(runtime.url, 'hostile', 'spam', 'Spam', {});
    expect(status).toBe(200);
    await runtime.waitForLog((l) => runtime.logs.indexOf(l) >= mark && l.msg.includes('more log lines of this call were dropped'));
    const guest = runtime.logs.slice(mark).filter((l) => l.msg.startsWith('guest:'));
    expect(guest.filter((l) => l.msg === 'guest: spam')).toHaveLength(100);
    expect(guest.filter((l) => l.msg !== 'guest: spam').map((l) => l.msg)).toEqual([
      'guest: 999900 more log lines of this call were dropped: a module may log 100 lines per call',
    ]);
  });
});

describe('SIGTERM', () => {
  it('stops the runtime, which exits 0', async () => {
    expect(await runtime.stop('SIGTERM')).toBe(0);
  });
});
