import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import { decodeEvent } from '../../src/protocol/decode-event.js';
import { applyBalances, readBalances } from '../../examples/bank-balances.js';
import { exitCode, killRounds } from '../crash-rounds.js';

const CHILD = resolve('test/projections/fixtures/balances-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'thalo-projection-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(mode: 'load' | 'settle') {
  return spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, join(dir, 'data'), resolve('modules'), join(dir, 'balances.json'), join(dir, 'delivered.log'), mode],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

describe('projection across SIGKILL', () => {
  it('keeps a read model equal to a recomputation from the log, skipping nothing', async () => {
    const rounds = 4;
    // Let it run a random while each round, then kill it mid-whatever.
    await killRounds(() => start('load'), rounds, 150, 500);
    const settle = start('settle');
    expect(await exitCode(settle)).toBe(0);

    const store = EventStore.open({ path: join(dir, 'data') });
    const log = store
      .readAll()
      .map(decodeEvent)
      .filter((e) => e.stream.startsWith('bank_account-'));
    await store.close();
    expect(log.length).toBeGreaterThan(100);
    const expected = applyBalances({ position: 0, balances: {} }, log);
    const model = readBalances(join(dir, 'balances.json'));
    expect(model.balances).toEqual(expected.balances);
    expect(Object.values(model.balances).every((b) => b >= 0)).toBe(true);

    // Every event was delivered; replays only for batches in flight at a crash.
    expect(existsSync(join(dir, 'delivered.log'))).toBe(true);
    const delivered = readFileSync(join(dir, 'delivered.log'), 'utf8').trim().split('\n').map(Number);
    const counts = new Map<number, number>();
    for (const p of delivered) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (const event of log) expect(counts.get(event.position), `position ${event.position} delivered`).toBeGreaterThanOrEqual(1);
    const replayed = [...counts.values()].filter((n) => n > 1).length;
    expect(replayed).toBeLessThanOrEqual(rounds * 1_000);
  }, 120_000);
});
