import { describe, expect, it } from 'vitest';
import type { ExecutedEvent } from '../../src/engine/index.js';
import { Consumers } from '../../src/projections/index.js';
import { startEngine } from '../engine/helpers.js';

describe('projections', () => {
  it('delivers every position once, in order, across the switch from catch-up to live under concurrent appends', async () => {
    const engine = await startEngine({ workers: 2 });
    await Promise.all(Array.from({ length: 500 }, (_, i) => engine.execute('counter', `p${i % 37}`, 'Increment', { amount: 1 })));
    const seen: number[] = [];
    const projection = new Consumers(engine.log).project(
      'all',
      (events) => {
        for (const e of events) seen.push(e.position);
      },
      { batchSize: 64 },
    );
    // Appends race with the catch-up, which starts at once.
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 150 }, (_, i) => engine.execute('counter', `q${i % 41}`, 'Increment', { amount: 1 })));
    }
    await projection.waitForPosition(await engine.lastPosition());
    expect(await engine.lastPosition()).toBe(2_000);
    expect(seen).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
    expect(projection.info()).toMatchObject({ name: 'all', status: 'running', position: 2_000, lag: 0 });
  });

  it('filters by aggregate, stream and event type', async () => {
    const engine = await startEngine();
    await engine.execute('counter', 'a', 'Increment', { amount: 1 });
    await engine.execute('bank_account', 'x', 'OpenAccount', { initial_balance: 10 });
    await engine.execute('bank_account', 'x', 'Deposit', { amount: 5 });
    await engine.execute('bank_account', 'y', 'OpenAccount', { initial_balance: 1 });
    const collect = (filter: object) => {
      const got: string[] = [];
      const p = new Consumers(engine.log).project(
        `f-${JSON.stringify(filter)}`,
        (events) => {
          for (const e of events) got.push(`${e.stream}:${e.type}`);
        },
        { filter },
      );
      return { got, p };
    };
    const byAggregate = collect({ aggregates: ['bank_account'] });
    const byStream = collect({ streams: ['bank_account-x'] });
    const byType = collect({ types: ['AccountOpened'] });
    const both = collect({ aggregates: ['bank_account'], types: ['Deposited'] });
    for (const { p } of [byAggregate, byStream, byType, both]) await p.waitForPosition(4);
    expect(byAggregate.got).toEqual(['bank_account-x:AccountOpened', 'bank_account-x:Deposited', 'bank_account-y:AccountOpened']);
    expect(byStream.got).toEqual(['bank_account-x:AccountOpened', 'bank_account-x:Deposited']);
    expect(byType.got).toEqual(['bank_account-x:AccountOpened', 'bank_account-y:AccountOpened']);
    expect(both.got).toEqual(['bank_account-x:Deposited']);
  });

  it('retries a failing batch with backoff, never skips, and does not stop other projections', async () => {
    const engine = await startEngine();
    for (let i = 0; i < 5; i++) await engine.execute('counter', 'r', 'Increment', { amount: i + 1 });
    let attempts = 0;
    const delivered: number[] = [];
    const errors: number[] = [];
    const flaky = new Consumers(engine.log).project(
      'flaky',
      (events) => {
        attempts++;
        if (attempts <= 3) throw new Error(`read model unavailable (attempt ${attempts})`);
        for (const e of events) delivered.push(e.position);
      },
      { retryInitialMs: 5, onError: (_error, failures) => errors.push(failures) },
    );
    const healthy: number[] = [];
    const other = new Consumers(engine.log).project('healthy', (events) => {
      for (const e of events) healthy.push(e.position);
    });
    await other.waitForPosition(5);
    expect(healthy).toEqual([1, 2, 3, 4, 5]);
    await flaky.waitForPosition(5);
    expect(errors).toEqual([1, 2, 3]);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(flaky.info()).toMatchObject({ status: 'running', failures: 0, lastError: 'read model unavailable (attempt 3)' });
  });

  it('resumes from its checkpoint after a restart, and replays from a reset', async () => {
    const engine = await startEngine();
    for (let i = 0; i < 4; i++) await engine.execute('counter', 'c', 'Increment', { amount: 1 });
    const first: number[] = [];
    const p1 = new Consumers(engine.log).project('checkpointed', (events) => {
      for (const e of events) first.push(e.position);
    });
    await p1.waitForPosition(4);
    await p1.stop();
    for (let i = 0; i < 2; i++) await engine.execute('counter', 'c', 'Increment', { amount: 1 });
    const second: number[] = [];
    const p2 = new Consumers(engine.log).project('checkpointed', (events) => {
      for (const e of events) second.push(e.position);
    });
    await p2.waitForPosition(6);
    expect(first).toEqual([1, 2, 3, 4]);
    expect(second).toEqual([5, 6]);
    await p2.reset(2);
    await p2.waitForPosition(6);
    expect(second).toEqual([5, 6, 3, 4, 5, 6]);
  });

  it('pauses and resumes', async () => {
    const engine = await startEngine();
    const seen: ExecutedEvent[] = [];
    const p = new Consumers(engine.log).project(
      'pausable',
      (events) => {
        seen.push(...events);
      },
      { pollIntervalMs: 20 },
    );
    await engine.execute('counter', 'z', 'Increment', { amount: 1 });
    await p.waitForPosition(1);
    p.pause();
    expect(p.info().status).toBe('paused');
    await engine.execute('counter', 'z', 'Increment', { amount: 1 });
    // Give a paused projection several polling rounds in which it must not move.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(p.info()).toMatchObject({ position: 1, lag: 1 });
    p.resume();
    await p.waitForPosition(2);
    expect(seen.map((e) => e.seq)).toEqual([1, 2]);
  });
});
