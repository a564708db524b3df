/**
 * The worker reads a task by its `type` with an exhaustive switch: a task it does not know is
 * refused, not taken for the last branch (it used to close the worker's store, so every later
 * command of that shard failed with STORE_CLOSED).
 */
import { describe, expect, it } from 'vitest';
import { ShardRouter } from '../../src/engine/shard-router.js';
import { startEngine } from './helpers.js';

describe('Engine: the worker dispatch', () => {
  it('refuses a task of an unknown type and goes on serving its shard', async () => {
    const engine = await startEngine({ workers: 1 });
    await engine.execute('counter', 'd', 'Increment', { amount: 1 });
    const internals = engine as unknown as { pool: { run(task: unknown): Promise<unknown> } };
    const unknown = internals.pool.run(Object.assign({ type: 'rebalance', shard: 0 }, ShardRouter.tag(0)));
    await expect(unknown).rejects.toThrow('the worker got a task of unknown type "rebalance"');
    const next = await engine.execute('counter', 'd', 'Increment', { amount: 1 });
    expect(next.version).toBe(2);
  });
});
