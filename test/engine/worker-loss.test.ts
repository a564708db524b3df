/**
 * A worker thread that fails while it has no task in flight (an error thrown from a callback after
 * its last reply, as lmdb-js's failed commits once did) reaches the pool as an 'error' event with
 * no task to fail. The engine must survive it, report it, and serve the shard from the replacement.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startEngine } from './helpers.js';

describe('Engine: a worker lost between tasks', () => {
  it('is reported to onWorkerError and replaced; the engine and the shard carry on', async () => {
    const engine = await startEngine({ workers: 1 });
    await engine.execute('counter', 'w', 'Increment', { amount: 1 });
    const reported: unknown[] = [];
    engine.onWorkerError((error) => reported.push(error));
    // The error event Node emits on a Worker whose thread threw, delivered to Piscina's listener.
    const internals = engine as unknown as { pool: { threads: EventEmitter[] } };
    const worker = internals.pool.threads[0]!;
    const failure = new Error('thrown in the worker after its last reply');
    // Without a listener on the pool, Piscina's re-emitted 'error' throws here: in a real worker
    // failure it would be an uncaught exception that ends the process.
    expect(() => worker.emit('error', failure)).not.toThrow();
    expect(reported).toEqual([failure]);
    // The next command on that shard runs on the replacement, from the stored events.
    const next = await engine.execute('counter', 'w', 'Increment', { amount: 1 });
    expect(next.version).toBe(2);
    expect(internals.pool.threads).not.toContain(worker);
  });
});
