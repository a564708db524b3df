/**
 * `thalo-runtime` run with options for node itself. Node refuses V8 and per-process flags in a
 * worker's `execArgv`, so an engine that handed its workers `process.execArgv` failed to start
 * under `node --max-old-space-size=4096` (ERR_WORKER_INVALID_EXEC_ARGV): the workers now inherit
 * the options as Node hands them on.
 */
import { describe, expect, it } from 'vitest';
import { execute, startRuntime } from './runtime-process.js';

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
