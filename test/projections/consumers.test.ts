/**
 * The engine runs no consumer: projections and relays are built over `engine.log` and kept by
 * `Consumers`, and they stop (checkpoint stored) when the engine closes the log.
 */
import { describe, expect, it, vi } from 'vitest';
import { Consumers } from '../../src/projections/index.js';
import { EventStore } from '../../src/store/index.js';
import { settle, startEngine, tempDir } from '../engine/helpers.js';
import { flipAmount, writeMarkedLog } from '../store/damage-helpers.js';

describe('Consumers over engine.log', () => {
  it('the engine has no consumer methods and no checkpoint pass-throughs: its log is the one way in', async () => {
    const engine = await startEngine();
    for (const method of [
      'project',
      'relay',
      'projections',
      'relays',
      'projection',
      'relayNamed',
      'checkpoint',
      'checkpoints',
      'setCheckpoint',
      'advanceCheckpoint',
      'deleteCheckpoint',
    ]) {
      expect(method in engine, method).toBe(false);
    }
    expect(Object.keys(engine.log).sort()).toEqual([
      'advanceCheckpoint',
      'deleteCheckpoint',
      'getCheckpoint',
      'lastPosition',
      'listCheckpoints',
      'onClose',
      'onCommit',
      'readAll',
      'setCheckpoint',
    ]);
  });

  it('keeps one running consumer per name, and frees the name of a stopped one', async () => {
    const engine = await startEngine();
    const consumers = new Consumers(engine.log);
    const first = consumers.project('audit', () => undefined);
    const taken = await settle(Promise.resolve().then(() => consumers.project('audit', () => undefined)));
    expect(taken).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: 'a projection named "audit" is already running' },
    });
    await first.stop();
    const second = consumers.project('audit', () => undefined);
    expect(consumers.get('audit')).toBe(second);
    expect(consumers.list().map((c) => c.info())).toEqual([{ name: 'audit', status: 'running', position: 0, lag: 0, failures: 0 }]);
  });

  it('stops every projection when the engine stops, with its last checkpoint stored, and refuses new ones then', async () => {
    const data = tempDir();
    const engine = await startEngine({ data });
    const consumers = new Consumers(engine.log);
    for (let i = 0; i < 3; i++) await engine.execute('counter', 'c', 'Increment', { amount: 1 });
    const projection = consumers.project('counted', () => undefined);
    await projection.waitForPosition(3);
    await engine.stop();
    const refused = await settle(Promise.resolve().then(() => consumers.project('late', () => undefined)));
    expect(refused).toMatchObject({ ok: false, error: { code: 'ENGINE_STOPPED' } });
    const store = EventStore.open({ path: data });
    try {
      expect(store.getCheckpoint('counted')).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('a reset of a stopped projection stores the checkpoint, which its next start resumes from', async () => {
    const engine = await startEngine();
    const consumers = new Consumers(engine.log);
    for (let i = 0; i < 4; i++) await engine.execute('counter', 'c', 'Increment', { amount: 1 });
    const first = consumers.project('replayed', () => undefined);
    await first.waitForPosition(4);
    await first.stop();
    await first.reset(1);
    expect(first.info()).toMatchObject({ status: 'stopped', position: 1, lag: 3 });
    const seen: number[] = [];
    const second = consumers.project('replayed', (events) => void seen.push(...events.map((e) => e.position)));
    await second.waitForPosition(4);
    expect(seen).toEqual([2, 3, 4]);
  });

  it('a damaged position is a failure the projection retries (its error named), not a crash of the process', async () => {
    const data = tempDir();
    await writeMarkedLog(data, 20);
    flipAmount(data, 12);
    const engine = await startEngine({ data });
    const consumers = new Consumers(engine.log);
    const seen: number[] = [];
    const failures: string[] = [];
    const projection = consumers.project('over-damage', (events) => void seen.push(...events.map((e) => e.position)), {
      batchSize: 5,
      retryInitialMs: 1,
      retryMaxMs: 5,
      onError: (error) => failures.push((error as { code?: string }).code ?? String(error)),
    });
    await projection.waitForPosition(10);
    await vi.waitFor(() => expect(failures.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    expect(new Set(failures)).toEqual(new Set(['STORE_CORRUPTED']));
    expect(projection.info()).toMatchObject({ status: 'retrying', position: 10 });
    expect(projection.info().lastError).toContain('position 12');
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});
