import { beforeAll, describe, expect, it } from 'vitest';
import type { ExecuteResult } from '../../src/engine/index.js';
import { BACKENDS, settle, startEngine } from './helpers.js';

/** Yield to the event loop so the next commands land in a later batch. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(BACKENDS)('on $name', (backend) => {
  beforeAll(() => backend.ready());

  describe('Engine: ordering and completeness', () => {
    it('keeps each aggregate in submission order across batches, with outcomes equal to a sequential replay', async () => {
      const engine = await startEngine({ ...backend.place(), workers: 2 });
      const accounts = ['a0', 'a1', 'a2', 'a3'];
      await Promise.all(accounts.map((id) => engine.execute('bank_account', id, 'OpenAccount', { initial_balance: 100 })));

      type Op = { command: 'Deposit' | 'Withdraw'; amount: number; outcome: ReturnType<typeof settle<ExecuteResult>> };
      const submitted = new Map<string, Op[]>(accounts.map((id) => [id, []]));
      let seed = 42;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const caller = async () => {
        for (let i = 0; i < 150; i++) {
          const id = accounts[Math.floor(random() * accounts.length)]!;
          const command = random() < 0.5 ? 'Deposit' : 'Withdraw';
          const amount = 1 + Math.floor(random() * 60);
          submitted.get(id)!.push({ command, amount, outcome: settle(engine.execute('bank_account', id, command, { amount })) });
          if (random() < 0.3) await tick();
        }
      };
      await Promise.all(Array.from({ length: 6 }, caller));

      for (const id of accounts) {
        let balance = 100;
        const expectedEvents: { type: string; amount: number }[] = [];
        for (const op of submitted.get(id)!) {
          const outcome = await op.outcome;
          if (op.command === 'Withdraw' && op.amount > balance) {
            expect(outcome.ok, `${id}: Withdraw ${op.amount} from ${balance} must be rejected`).toBe(false);
            if (!outcome.ok) expect((outcome.error.data as { code: string }).code).toBe('INSUFFICIENT_FUNDS');
            continue;
          }
          expect(outcome.ok, `${id}: ${op.command} ${op.amount} at balance ${balance} must succeed`).toBe(true);
          balance += op.command === 'Deposit' ? op.amount : -op.amount;
          expectedEvents.push({ type: op.command === 'Deposit' ? 'Deposited' : 'Withdrawn', amount: op.amount });
        }
        const stored = (await engine.readStream('bank_account', id)).slice(1);
        expect(stored.map((e) => ({ type: e.type, amount: (e.data as { amount: number }).amount }))).toEqual(expectedEvents);
        // The cached state agrees with the replay: the exact balance can be withdrawn, not a unit more.
        if (balance > 0) await engine.execute('bank_account', id, 'Withdraw', { amount: balance });
        const overdraw = await settle(engine.execute('bank_account', id, 'Withdraw', { amount: 1 }));
        expect(overdraw.ok).toBe(false);
      }
    });

    it('stores every acknowledged command exactly once across all workers, in a dense log', async () => {
      const engine = await startEngine({ ...backend.place(), workers: 2 });
      const acks = await Promise.all(
        Array.from({ length: 3_000 }, (_, i) => engine.execute('counter', `c${i % 1_000}`, 'Increment', { amount: i + 1 })),
      );
      const log = await engine.readAll();
      expect(log.map((e) => e.position)).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
      const acked = acks.flatMap((a) => a.events.map((e) => e.id)).sort();
      expect(acked).toHaveLength(3_000);
      expect(log.map((e) => e.id).sort()).toEqual(acked);
      const seqs = new Map<string, number[]>();
      for (const event of log) seqs.set(event.stream, [...(seqs.get(event.stream) ?? []), event.seq]);
      expect(seqs.size).toBe(1_000);
      for (const list of seqs.values()) expect(list).toEqual([1, 2, 3]);
      expect(await engine.lastPosition()).toBe(3_000);
    });

    it('returns stored events with positions, ids, timestamps, metadata and decoded data', async () => {
      const engine = await startEngine(backend.place());
      const result = await engine.execute(
        'counter',
        'abc123',
        'Increment',
        { amount: 10 },
        { correlationId: 'corr-1', causationId: 'cause-1', headers: { user: 'ann' } },
      );
      expect(result).toMatchObject({ aggregate: 'counter', id: 'abc123', stream: 'counter-abc123', version: 1, duplicate: false });
      expect(result.events).toHaveLength(1);
      const [event] = result.events;
      expect(event).toMatchObject({ type: 'Incremented', data: { amount: 10 }, stream: 'counter-abc123', seq: 1, position: 1 });
      expect(event!.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Math.abs(event!.timestamp - Date.now())).toBeLessThan(60_000);
      expect(event!.metadata).toMatchObject({ correlationId: 'corr-1', causationId: 'cause-1', headers: { user: 'ann' } });
      expect(await engine.readStream('counter', 'abc123')).toEqual(result.events);
    });
  });

  describe('Engine: concurrency control and idempotency', () => {
    it('checks expected versions: no_stream, exists and exact seqs', async () => {
      const engine = await startEngine(backend.place());
      const inc = (expectedVersion: 'no_stream' | 'exists' | 'any' | number) =>
        settle(engine.execute('counter', 'v', 'Increment', { amount: 1 }, { expectedVersion }));
      expect((await inc('exists')).ok).toBe(false);
      expect((await inc('no_stream')).ok).toBe(true);
      const conflict = await inc('no_stream');
      expect(conflict.ok).toBe(false);
      if (!conflict.ok) {
        expect(conflict.error.code).toBe('WRONG_EXPECTED_VERSION');
        expect(conflict.error.data).toMatchObject({ stream: 'counter-v', expected: 'no_stream', actual: 1 });
        // The worker refuses it against its cached state, with the store's words (one rule, src/expected-version.ts).
        expect(conflict.error.message).toBe(`stream "counter-v" expected 'no_stream', but it is at version 1`);
      }
      expect((await inc(1)).ok).toBe(true);
      const stale = await inc(1);
      expect(!stale.ok && stale.error.code).toBe('WRONG_EXPECTED_VERSION');
      expect(!stale.ok && stale.error.message).toBe('stream "counter-v" expected version 1, but it is at version 2');
      expect((await inc('exists')).ok).toBe(true);
      expect((await inc('any')).ok).toBe(true);
      expect((await engine.readStream('counter', 'v')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    });

    it('returns the original result for a repeated command id and appends nothing', async () => {
      const engine = await startEngine(backend.place());
      await engine.execute('bank_account', 'idem', 'OpenAccount', { initial_balance: 100 });
      const first = await engine.execute('bank_account', 'idem', 'Withdraw', { amount: 80 }, { commandId: 'w-1' });
      // Run again, the same command would now be rejected (80 > 20): the retry must not run it.
      const retry = await engine.execute('bank_account', 'idem', 'Withdraw', { amount: 80 }, { commandId: 'w-1' });
      expect(retry.duplicate).toBe(true);
      expect(retry.events.map((e) => e.id)).toEqual(first.events.map((e) => e.id));
      expect(await engine.readStream('bank_account', 'idem')).toHaveLength(2);
    });

    it('appends a command once when copies with the same id arrive in one batch', async () => {
      const engine = await startEngine(backend.place());
      const copies = await Promise.all(
        Array.from({ length: 5 }, () => engine.execute('counter', 'same', 'Increment', { amount: 5 }, { commandId: 'once' })),
      );
      expect(copies.filter((c) => !c.duplicate)).toHaveLength(1);
      expect(new Set(copies.map((c) => c.events[0]!.id)).size).toBe(1);
      expect(await engine.readStream('counter', 'same')).toHaveLength(1);
      // The state was not moved by the duplicates: the next command lands at seq 2.
      const next = await engine.execute('counter', 'same', 'Increment', { amount: 1 }, { expectedVersion: 1 });
      expect(next.version).toBe(2);
    });
  });

  describe('Engine: outcomes at the edge', () => {
    it('resolves a business rejection as COMMAND_REJECTED with the aggregate code', async () => {
      const engine = await startEngine(backend.place());
      const rejected = await settle(engine.execute('bank_account', 'closed', 'Withdraw', { amount: 5 }));
      expect(rejected.ok).toBe(false);
      if (!rejected.ok) {
        expect(rejected.error.code).toBe('COMMAND_REJECTED');
        expect(rejected.error.data).toMatchObject({
          aggregate: 'bank_account',
          id: 'closed',
          command: 'Withdraw',
          code: 'ACCOUNT_NOT_OPEN',
        });
      }
      expect(await engine.readStream('bank_account', 'closed')).toEqual([]);
    });

    it('names unknown aggregates, unknown commands, invalid ids and invalid options', async () => {
      const engine = await startEngine(backend.place());
      const code = async (p: Promise<unknown>) => {
        const r = await settle(p);
        return r.ok ? 'ok' : r.error.code;
      };
      expect(await code(engine.execute('nope', 'x', 'Increment', {}))).toBe('AGGREGATE_NOT_FOUND');
      expect(await code(engine.execute('counter', 'x', 'Decrement', {}))).toBe('UNKNOWN_COMMAND');
      expect(await code(engine.execute('counter', '', 'Increment', { amount: 1 }))).toBe('INVALID_AGGREGATE_ID');
      expect(await code(engine.execute('counter', 'bad\u0000id', 'Increment', { amount: 1 }))).toBe('INVALID_AGGREGATE_ID');
      expect(await code(engine.execute('counter', 'x'.repeat(10_000), 'Increment', { amount: 1 }))).toBe('INVALID_AGGREGATE_ID');
      expect(await code(engine.execute('counter', 'x', 'Increment', { amount: 1 }, { expectedVersion: -1 }))).toBe('INVALID_ARGUMENT');
      expect(await code(engine.execute('counter', 'x', 'Increment', { amount: 'ten' }))).not.toBe('ok');
      expect(await code(engine.execute('counter', 'x', 'Increment', { amount: 1, pad: 'x'.repeat(2 * 1024 * 1024) }))).toBe(
        'PAYLOAD_TOO_LARGE',
      );
      expect(await engine.readAll()).toEqual([]);
    });
  });

  describe('Engine: the cache is never the truth', () => {
    it('rebuilds evicted states (cache size 1) with the same answers', async () => {
      const engine = await startEngine({ ...backend.place(), cacheSize: 1, workers: 1 });
      await engine.execute('bank_account', 'x', 'OpenAccount', { initial_balance: 10 });
      await engine.execute('bank_account', 'y', 'OpenAccount', { initial_balance: 20 });
      for (let i = 0; i < 10; i++) {
        await engine.execute('bank_account', 'x', 'Deposit', { amount: 1 });
        await engine.execute('bank_account', 'y', 'Deposit', { amount: 2 });
      }
      await engine.execute('bank_account', 'x', 'Withdraw', { amount: 20 });
      await engine.execute('bank_account', 'y', 'Withdraw', { amount: 40 });
      for (const id of ['x', 'y']) {
        const r = await settle(engine.execute('bank_account', id, 'Withdraw', { amount: 1 }));
        expect(!r.ok && (r.error.data as { code: string }).code).toBe('INSUFFICIENT_FUNDS');
      }
    });

    it('counts each command as a cache hit or a rebuild (a miss)', async () => {
      const engine = await startEngine({ ...backend.place(), cacheSize: 1, workers: 1 });
      // x is rebuilt, then cached; y takes the one place; x is rebuilt again.
      for (const id of ['x', 'x', 'y', 'x']) await engine.execute('counter', id, 'Increment', { amount: 1 });
      expect(engine.cacheStats()).toEqual({ hits: 1, misses: 3 });
    });

    it('counts the store commits of commands: one per batch, with its appends and their time', async () => {
      const engine = await startEngine({ ...backend.place(), workers: 1 });
      expect(engine.commitStats()).toEqual({ count: 0, appends: 0, seconds: 0 });
      await engine.execute('bank_account', 'c', 'OpenAccount', { initial_balance: 5 });
      const first = engine.commitStats();
      expect([first.count, first.appends]).toEqual([1, 1]);
      expect(first.seconds).toBeGreaterThan(0);
      // A rejection appends nothing, so it commits nothing.
      const rejected = await settle(engine.execute('bank_account', 'c', 'Withdraw', { amount: 50 }));
      expect(!rejected.ok && (rejected.error.data as { code: string }).code).toBe('INSUFFICIENT_FUNDS');
      expect(engine.commitStats()).toEqual(first);
      // Commands sent in one turn travel to their worker as one batch, committed together.
      await Promise.all(Array.from({ length: 20 }, (_, i) => engine.execute('counter', `k-${i}`, 'Increment', { amount: 1 })));
      const after = engine.commitStats();
      expect([after.count, after.appends]).toEqual([2, 21]);
      expect(after.seconds).toBeGreaterThan(first.seconds);
    });

    it('writes snapshots every N events, and a rebuild from one equals a full replay', async () => {
      const place = backend.place();
      let engine = await startEngine({ ...place, snapshotEvery: 10, workers: 1 });
      await engine.execute('bank_account', 's', 'OpenAccount', { initial_balance: 0 });
      for (let i = 1; i <= 34; i++) await engine.execute('bank_account', 's', 'Deposit', { amount: i });
      await engine.stop();

      const store = await backend.open(place);
      const snapshot = await store.getSnapshot('bank_account-s');
      await store.close();
      expect(snapshot?.seq).toBe(30);

      const balance = (34 * 35) / 2;
      for (const snapshotEvery of [10, 0]) {
        engine = await startEngine({ ...place, snapshotEvery, workers: 1 });
        const over = await settle(engine.execute('bank_account', 's', 'Withdraw', { amount: balance + 1 }));
        expect(!over.ok && (over.error.data as { code: string }).code).toBe('INSUFFICIENT_FUNDS');
        await engine.stop();
      }
      engine = await startEngine({ ...place, workers: 1 });
      const exact = await engine.execute('bank_account', 's', 'Withdraw', { amount: balance });
      expect(exact.version).toBe(36);
    });
  });

  describe('Engine: stop', () => {
    it('drains in-flight commands, then refuses new ones', async () => {
      const place = backend.place();
      const engine = await startEngine(place);
      const inFlight = Array.from({ length: 500 }, (_, i) => engine.execute('counter', `d${i % 50}`, 'Increment', { amount: 1 }));
      const stopped = engine.stop();
      const refused = await settle(engine.execute('counter', 'late', 'Increment', { amount: 1 }));
      expect(!refused.ok && refused.error.code).toBe('ENGINE_STOPPED');
      const results = await Promise.all(inFlight);
      expect(results).toHaveLength(500);
      await stopped;
      const store = await backend.open(place);
      expect(await store.lastPosition()).toBe(500);
      await store.close();
    });
  });
});
