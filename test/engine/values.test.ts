/**
 * Issue 13, items 1, 2, 3, 9 and 14 through the Node API: what a caller or a guest hands the engine
 * can fail its own command, never the others, never the log.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { UNDECODABLE, writeEventsBeforeTheValueRule } from '../fixtures/legacy-events.js';
import { EXAMPLE_MODULES, settle, startEngine, tempDir } from './helpers.js';

/** The counter and the rogue fixture (test/fixtures/rogue.wat), whose commands return what must be refused. */
let modules: string;
afterAll(() => rmSync(modules, { recursive: true, force: true }));
beforeAll(async () => {
  modules = mkdtempSync(join(tmpdir(), 'thalo-values-modules-'));
  copyFileSync(join(EXAMPLE_MODULES, 'counter.wasm'), join(modules, 'counter.wasm'));
  await buildFixture('rogue', modules);
});

/**
 * One engine for a whole describe block (a start per test costs more than the test): one worker, so
 * that a command and the ten beside it share a batch. Each test reads only what it wrote.
 */
function sharedEngine(): () => Engine {
  let engine: Engine | undefined;
  let data: string | undefined;
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), 'thalo-values-data-'));
    engine = await Engine.start({ modules, data, workers: 1 });
  });
  afterAll(async () => {
    await engine?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });
  return () => engine!;
}

/** Ten counter commands in the same tick as `odd`, on one worker: they share its batch. */
async function besideTen(engine: Engine, odd: () => Promise<unknown>) {
  const before = Array.from({ length: 5 }, (_, i) => settle(engine.execute('counter', `b${i}`, 'Increment', { amount: 1 })));
  const result = settle(odd());
  const after = Array.from({ length: 5 }, (_, i) => settle(engine.execute('counter', `a${i}`, 'Increment', { amount: 1 })));
  const others = await Promise.all([...before, ...after]);
  return { result: await result, others };
}

describe('Engine: payloads break only their own command (item 14)', () => {
  const shared = sharedEngine();
  const throwing = {
    get amount(): number {
      throw new Error('no amount for you');
    },
  };
  let deep: unknown = 1;
  for (let i = 0; i < 20_000; i++) deep = { deep };
  const cases: [string, unknown, string][] = [
    ['a function', { amount: 1, run: () => 1 }, 'payload.run is a function'],
    ['a Symbol', { amount: Symbol('x') }, 'payload.amount is a symbol'],
    ['a throwing getter', throwing, 'payload.amount could not be read'],
    ['20,000 levels of nesting', deep, 'nests deeper than 64 levels'],
    ['a BigInt', { amount: 5n }, 'payload.amount is a BigInt'],
    ['an integer past 2^53', { amount: 1e18 }, 'payload.amount 1000000000000000000 is an integer beyond'],
    ['a Date', { at: new Date(0) }, 'payload.at is a Date'],
    ['NaN', { amount: Number.NaN }, 'payload.amount NaN is not a finite number'],
    ['an own __proto__ field', JSON.parse('{"__proto__":{"amount":5},"amount":1}'), 'payload.__proto__ is not allowed'],
    ['a lone surrogate', { amount: 1, note: 'half \ud83d' }, 'payload.note is not well-formed text'],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      'nests deeper than 64 levels',
    ],
  ];
  for (const [what, payload, message] of cases) {
    it(`refuses ${what} with INVALID_PAYLOAD naming the field; ten commands beside it succeed`, async () => {
      const engine = shared();
      const { result, others } = await besideTen(engine, () => engine.execute('counter', 'odd', 'Increment', payload));
      expect(!result.ok && result.error.code).toBe('INVALID_PAYLOAD');
      expect(!result.ok && result.error.message).toContain(message);
      expect(others.filter((o) => o.ok)).toHaveLength(10);
      expect(await engine.readStream('counter', 'odd')).toEqual([]);
    });
  }
});

describe('Engine: guest output is checked before anything is written (items 1 and 3)', () => {
  const refused: [string, string, string][] = [
    ['Ext', 'GUEST_FAULT', 'msgpack extension value'],
    ['Huge', 'GUEST_FAULT', 'holds the integer 1000000000000000000, beyond'],
    ['Deep', 'GUEST_FAULT', 'nests deeper than 64 levels'],
    ['Reject', 'GUEST_FAULT', 'the rejection data holds the integer 1000000000000000000'],
    ['Many', 'TOO_MANY_EVENTS', 'returned 5000 events; one command may append at most 1000'],
    ['Big', 'EVENT_TOO_LARGE', 'of 2097157 bytes; an event may take at most 1048576'],
  ];
  const shared = sharedEngine();
  for (const [command, code, message] of refused) {
    it(`${command}: ${code}, nothing written, the ten commands of its batch committed`, async () => {
      const engine = shared();
      const from = (await engine.lastPosition()) + 1;
      const { result, others } = await besideTen(engine, () => engine.execute('rogue', command, command));
      expect(!result.ok && result.error.code).toBe(code);
      expect(!result.ok && result.error.message).toContain(message);
      expect(others.filter((o) => o.ok)).toHaveLength(10);
      // The log gained exactly the ten, and every page of it reads.
      const log = await engine.readAll({ from });
      expect(log.map((e) => e.stream).sort()).toEqual(
        [...Array.from({ length: 5 }, (_, i) => `counter-a${i}`), ...Array.from({ length: 5 }, (_, i) => `counter-b${i}`)].sort(),
      );
      expect(await engine.readStream('rogue', command)).toEqual([]);
      // The aggregate serves its next command.
      await expect(engine.execute('rogue', command, 'Ok')).resolves.toMatchObject({ version: 1 });
    });
  }

  it('answers a committed command with the data it checked, as a later read returns it', async () => {
    const engine = shared();
    const result = await engine.execute('rogue', 'ok', 'Ok');
    expect(result.events[0]!.data).toBe(1);
    expect((await engine.readStream('rogue', 'ok'))[0]!.data).toBe(1);
  });
});

describe('Engine: limits on what a command writes (item 9)', () => {
  it('refuses 20 MB of headers with METADATA_TOO_LARGE before the command travels', async () => {
    const engine = await startEngine({ modules, workers: 1 });
    const headers = { big: 'x'.repeat(20 * 1024 * 1024) };
    const { result, others } = await besideTen(engine, () => engine.execute('counter', 'h', 'Increment', { amount: 1 }, { headers }));
    expect(!result.ok && result.error.code).toBe('METADATA_TOO_LARGE');
    expect(!result.ok && result.error.message).toContain('the limit is 16384');
    expect(others.filter((o) => o.ok)).toHaveLength(10);
    expect(await engine.readStream('counter', 'h')).toEqual([]);
  });

  it('takes the limits as options', async () => {
    const engine = await startEngine({ modules, workers: 1, maxEventsPerCommand: 5000, maxMetadataBytes: 64 });
    await expect(engine.execute('rogue', 'm', 'Many')).resolves.toMatchObject({ version: 5000 });
    const refused = await settle(engine.execute('counter', 'h', 'Increment', { amount: 1 }, { headers: { note: 'y'.repeat(65) } }));
    expect(!refused.ok && refused.error.code).toBe('METADATA_TOO_LARGE');
  });
});

describe('Engine: a command id belongs to one stream (item 2)', () => {
  it('refuses a command id used on counter/r1 when sent for counter/r2, naming both, and writes nothing to r2', async () => {
    const engine = await startEngine({ modules });
    await engine.execute('counter', 'r1', 'Increment', { amount: 1 }, { commandId: 'cmd-1' });
    const again = await settle(engine.execute('counter', 'r2', 'Increment', { amount: 1 }, { commandId: 'cmd-1' }));
    expect(!again.ok && again.error.code).toBe('COMMAND_ID_REUSED');
    expect(!again.ok && again.error.message).toContain('"counter-r1"');
    expect(!again.ok && again.error.message).toContain('"counter-r2"');
    expect(await engine.readStream('counter', 'r2')).toEqual([]);
  });

  it('gives every one of 50 concurrent reuses the same answer', async () => {
    const engine = await startEngine({ modules });
    await engine.execute('counter', 'r1', 'Increment', { amount: 1 }, { commandId: 'cmd-50' });
    const sends = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        settle(engine.execute('counter', `r${i + 2}`, 'Increment', { amount: 1 }, { commandId: 'cmd-50' })),
      ),
    );
    expect(sends.map((s) => !s.ok && s.error.code)).toEqual(Array(50).fill('COMMAND_ID_REUSED'));
    expect(await engine.readAll()).toHaveLength(1);
  });

  it('refuses the same reuse inside one batch with the same code', async () => {
    const engine = await startEngine({ modules, workers: 1 });
    const [first, second] = await Promise.all([
      settle(engine.execute('counter', 'x1', 'Increment', { amount: 1 }, { commandId: 'cmd-batch' })),
      settle(engine.execute('counter', 'x2', 'Increment', { amount: 1 }, { commandId: 'cmd-batch' })),
    ]);
    expect(first.ok).toBe(true);
    expect(!second.ok && second.error.code).toBe('COMMAND_ID_REUSED');
    expect(await engine.readStream('counter', 'x2')).toEqual([]);
  });
});

describe('Engine: events stored before the value rule still read (item 1)', () => {
  it('reads an int64 past 2^53 as a BigInt and bytes msgpack cannot decode as undecodable', async () => {
    const data = tempDir();
    await writeEventsBeforeTheValueRule(data);
    const engine = await startEngine({ modules, data, workers: 1 });
    const [huge, broken, plain] = await engine.readStream('counter', 'old');
    expect(huge!.data).toEqual({ amount: 10n ** 18n });
    expect(broken!.data).toBeNull();
    expect(broken!.undecodable).toEqual({ reason: expect.any(String), base64: Buffer.from(UNDECODABLE).toString('base64') });
    expect(plain!.data).toEqual({ amount: 1 });
    expect((await engine.readAll()).map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
