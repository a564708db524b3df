// The Rust examples through the engine, as a user meets them: the same data directory served by
// the AssemblyScript build, then by the Rust build (and the other way round), with snapshots on,
// so each build rebuilds the other's events and restores the other's snapshots; rejections carry
// their data; integers past 2^32 survive every hop.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleBuilds } from '../rust-toolchain.js';
import { settle, startEngine, tempDir } from './helpers.js';

const builds = exampleBuilds();

/** A modules directory holding `language`'s counter and bank_account. */
function modulesOf(language: string): string {
  const [, fileOf] = builds.find(([l]) => l === language)!;
  const dir = mkdtempSync(join(tmpdir(), 'thalo-rust-examples-'));
  for (const name of ['counter', 'bank_account']) copyFileSync(fileOf(name), join(dir, `${name}.wasm`));
  return dir;
}

describe.skipIf(builds.length < 2)('the AssemblyScript and Rust builds over one data directory', () => {
  const modules: Record<string, string> = {};
  beforeAll(() => {
    for (const [language] of builds) modules[language] = modulesOf(language);
  });
  afterAll(() => {
    for (const dir of Object.values(modules)) rmSync(dir, { recursive: true, force: true });
  });

  for (const [first, second] of [
    ['AssemblyScript', 'Rust'],
    ['Rust', 'AssemblyScript'],
  ]) {
    it(`${second} carries on from ${first}'s events and snapshots`, async () => {
      const data = tempDir();
      let engine = await startEngine({ modules: modules[first], data, workers: 1, snapshotEvery: 3 });
      await engine.execute('bank_account', 'acc', 'OpenAccount', { initial_balance: 50 });
      for (let i = 0; i < 4; i++) await engine.execute('bank_account', 'acc', 'Deposit', { amount: 2 ** 33 + i });
      await engine.execute('bank_account', 'acc', 'Withdraw', { amount: 2 ** 34 });
      for (let i = 1; i <= 7; i++) await engine.execute('counter', 'c', 'Increment', { amount: 2 ** 40 * i });
      await engine.stop();

      const balance = 50 + 4 * 2 ** 33 + 6 - 2 ** 34;
      engine = await startEngine({ modules: modules[second], data, workers: 1, snapshotEvery: 3 });
      const over = await settle(engine.execute('bank_account', 'acc', 'Withdraw', { amount: balance + 1 }));
      expect(over.ok).toBe(false);
      if (!over.ok) {
        expect(over.error.code).toBe('COMMAND_REJECTED');
        expect(over.error.data).toMatchObject({
          code: 'INSUFFICIENT_FUNDS',
          message: `cannot withdraw ${balance + 1} from a balance of ${balance}`,
          data: { balance, requested: balance + 1 },
        });
      }
      const exact = await engine.execute('bank_account', 'acc', 'Withdraw', { amount: balance });
      expect(exact.events.map((e) => e.data)).toEqual([{ amount: balance }]);
      const open = await settle(engine.execute('bank_account', 'acc', 'OpenAccount', { initial_balance: 1 }));
      expect(!open.ok && (open.error.data as { code: string }).code).toBe('ACCOUNT_ALREADY_OPEN');
      await engine.execute('counter', 'c', 'Increment', { amount: 1 });
      // `await`: the store's reads are becoming Promises (the PostgreSQL store); this works either way.
      expect((await engine.readStream('counter', 'c')).map((e) => (e.data as { amount: number }).amount)).toEqual([
        ...Array.from({ length: 7 }, (_, i) => 2 ** 40 * (i + 1)),
        1,
      ]);
      const zero = await settle(engine.execute('counter', 'c', 'Increment', { amount: 0 }));
      expect(!zero.ok && (zero.error.data as { code: string }).code).toBe('INVALID_AMOUNT');
    });
  }
});
