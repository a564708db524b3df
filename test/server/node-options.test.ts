/**
 * `thalo-runtime` run with options for node itself. Node refuses V8 and per-process flags in a
 * worker's `execArgv`, so an engine that handed its workers `process.execArgv` failed to start
 * under `node --max-old-space-size=4096` (ERR_WORKER_INVALID_EXEC_ARGV): the workers now inherit
 * the options as Node hands them on.
 *
 * The engine from a script given with `node --input-type=module -e`: Node hands `--input-type` on
 * to its threads, and the module probe's thread (src/wasm/module-probe.ts), evaluated as an ES
 * module then, found no `require`: no module loaded, and every command failed with
 * AGGREGATE_NOT_FOUND.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { execute, startRuntime } from './runtime-process.js';

const run = promisify(execFile);

describe('thalo-runtime under node options a worker thread cannot take', () => {
  it('starts its workers and executes commands', async () => {
    const runtime = await startRuntime({ nodeArgs: ['--max-old-space-size=512', '--stack-size=2000', '--expose-gc'] });
    try {
      for (const id of ['a', 'b', 'c', 'd']) {
        const answer = await execute(runtime.url, 'counter', id, 'Increment', { amount: 2 });
        expect(answer.status).toBe(200);
        expect(answer.body.events).toMatchObject([{ type: 'Incremented', data: { amount: 2 } }]);
      }
    } finally {
      expect(await runtime.stop()).toBe(0);
    }
  });
});

describe('the built engine from a script given with node --input-type=module -e', () => {
  it('loads its modules and executes a command', async () => {
    const data = mkdtempSync(join(tmpdir(), 'thalo-input-type-'));
    const script = `
      const { Engine } = await import(${JSON.stringify(pathToFileURL(resolve('dist/src/engine/index.js')).href)});
      const engine = await Engine.start({ modules: ${JSON.stringify(resolve('modules'))}, data: ${JSON.stringify(data)}, workers: 1 });
      try {
        const result = await engine.execute('counter', 'e-1', 'Increment', { amount: 3 });
        process.stdout.write(JSON.stringify({ version: result.version, type: result.events[0].type }));
      } finally {
        await engine.stop();
      }
    `;
    try {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
      expect(JSON.parse(stdout)).toEqual({ version: 1, type: 'Incremented' });
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
