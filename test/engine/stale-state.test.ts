/**
 * Two engines on one PostgreSQL schema (two cluster nodes, as far as the store can tell), each
 * caching its own state of the same aggregates: a state gone stale because the other engine wrote
 * the stream is rebuilt and the command run again, with or without an expected version, so the
 * caller sees WRONG_EXPECTED_VERSION only when its expectation is wrong against the store's head.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, dropSchemas, postgresSkipped, requirePostgres, POSTGRES } from '../store/postgres-helpers.js';
import { settle, startEngine } from './helpers.js';

describe.skipIf(postgresSkipped)('stale cached states across two engines on one store', () => {
  const schemas: string[] = [];
  beforeAll(requirePostgres);
  // After the engines, which helpers.ts stops after each test.
  afterAll(() => dropSchemas(schemas));

  async function twoEngines() {
    const schema = freshSchema();
    schemas.push(schema);
    const place = { store: POSTGRES.url, schema, workers: 1 };
    const first = await startEngine(place);
    const second = await startEngine(place);
    return { first, second };
  }

  it('checks an expected version against the store, not a stale cache, one command at a time', async () => {
    const { first, second } = await twoEngines();
    const engines = [first, second];
    for (let version = 0; version < 6; version++) {
      const result = await engines[version % 2]!.execute('counter', 'x', 'Increment', { amount: 1 }, { expectedVersion: version });
      expect(result.version).toBe(version + 1);
    }
    // Stale by now on the first engine (it last saw version 5), yet a right expectation holds...
    expect((await first.execute('counter', 'x', 'Increment', { amount: 1 }, { expectedVersion: 6 })).version).toBe(7);
    // ...and a wrong one fails, naming the store's head.
    const wrong = await settle(second.execute('counter', 'x', 'Increment', { amount: 1 }, { expectedVersion: 6 }));
    expect(!wrong.ok && wrong.error.code).toBe('WRONG_EXPECTED_VERSION');
    expect(!wrong.ok && wrong.error.message).toContain('but it is at version 7');
    expect(first.staleRetries() + second.staleRetries()).toBeGreaterThanOrEqual(5);
  });

  it('keeps arrival order in a batch whose first command finds its cached state stale', async () => {
    const { first, second } = await twoEngines();
    await first.execute('counter', 'y', 'Increment', { amount: 1 });
    await second.execute('counter', 'y', 'Increment', { amount: 1 });
    // Submitted in one tick: one batch on the first engine, whose cached state says version 1.
    const results = await Promise.all([
      settle(first.execute('counter', 'y', 'Increment', { amount: 10 }, { expectedVersion: 2 })),
      settle(first.execute('counter', 'y', 'Increment', { amount: 20 })),
      settle(first.execute('counter', 'y', 'Increment', { amount: 30 }, { expectedVersion: 4 })),
      settle(first.execute('counter', 'y', 'Increment', { amount: 40 }, { expectedVersion: 2 })),
    ]);
    expect(results.map((r) => (r.ok ? r.value.version : r.error.code))).toEqual([3, 4, 5, 'WRONG_EXPECTED_VERSION']);
    const amounts = (await second.readStream('counter', 'y')).map((e) => (e.data as { amount: number }).amount);
    expect(amounts).toEqual([1, 1, 10, 20, 30]);
  });

  it("decides a rejection on the store's state, not on a cached state another engine has moved past", async () => {
    const { first, second } = await twoEngines();
    await first.execute('bank_account', 'acc', 'OpenAccount', { initial_balance: 10 });
    await second.execute('bank_account', 'acc', 'Deposit', { amount: 100 });
    // The first engine's cached state still says 10: a withdrawal of 50 must see the 110 stored.
    const withdrawn = await first.execute('bank_account', 'acc', 'Withdraw', { amount: 50 });
    expect(withdrawn.version).toBe(3);
    await second.execute('bank_account', 'acc', 'Withdraw', { amount: 55 });
    // And a refusal names the balance the store holds (5), not the one the second engine cached (60).
    const refused = await settle(first.execute('bank_account', 'acc', 'Withdraw', { amount: 6 }));
    expect(!refused.ok && refused.error.data).toMatchObject({ code: 'INSUFFICIENT_FUNDS', data: { balance: 5, requested: 6 } });
  });
});
