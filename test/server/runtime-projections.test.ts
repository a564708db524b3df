/**
 * In-process projections in `thalo-runtime` (`--projection <file>`), with the runtime as a
 * process: the example bank balances read model kept up to date, listed and reset through the
 * API and the CLI; a failing handler retried and logged; a file that cannot be used stops the
 * start with a message naming it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execute, request, spawnRuntime, startRuntime, tempRoot, thalo } from './runtime-process.js';

const BALANCES_PROJECTION = resolve('dist/examples/bank-balances-runtime.js');

function readModel(file: string): { position: number; balances: Record<string, number> } | undefined {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

describe('thalo-runtime --projection', () => {
  it('keeps the example balances read model, lists it, and rebuilds it on reset', async () => {
    const root = tempRoot();
    const model = join(root.root, 'balances.json');
    const runtime = await startRuntime({ root, args: ['--projection', BALANCES_PROJECTION], env: { BANK_BALANCES_FILE: model } });
    expect(runtime.logs.find((l) => l.msg === 'projection started')).toMatchObject({ projection: 'bank-balances', position: 0 });
    const commands: [string, string, unknown][] = [
      ['alice', 'OpenAccount', { initial_balance: 100 }],
      ['bob', 'OpenAccount', { initial_balance: 5 }],
      ['alice', 'Withdraw', { amount: 30 }],
      ['bob', 'Deposit', { amount: 7 }],
      ['bob', 'Withdraw', { amount: 50 }], // rejected: no event
    ];
    for (const [id, command, payload] of commands) await execute(runtime.url, 'bank_account', id, command, payload);
    // Events of other aggregates are filtered out (the model's position may still cover them).
    await execute(runtime.url, 'counter', 'c', 'Increment', { amount: 1 });
    const expected = { alice: 70, bob: 12 };
    await expect.poll(() => readModel(model)?.balances, { timeout: 10_000 }).toEqual(expected);
    expect(readModel(model)!.position).toBeGreaterThanOrEqual(4);

    const { body } = await request(`${runtime.url}/v1/projections`);
    expect(body.projections.find((p: { name: string }) => p.name === 'bank-balances')).toMatchObject({
      kind: 'projection',
      status: 'running',
      lag: 0,
    });

    rmSync(model);
    const reset = await thalo(['projection', 'reset', 'bank-balances', '--url', runtime.url]);
    expect(reset.code).toBe(0);
    await expect.poll(() => readModel(model)?.balances, { timeout: 10_000 }).toEqual(expected);
    expect(await runtime.stop()).toBe(0);
  });

  it('retries a failing handler with a backoff, logging each failure, and then goes on', async () => {
    const root = tempRoot();
    const file = join(root.root, 'flaky.mjs');
    // Fails its first two attempts, then records what it got.
    writeFileSync(
      file,
      `import { appendFileSync } from 'node:fs';
let attempts = 0;
export default {
  name: 'flaky',
  handle(events) {
    if (++attempts <= 2) throw new Error('read model unavailable (attempt ' + attempts + ')');
    appendFileSync(${JSON.stringify(join(root.root, 'seen'))}, events.map((e) => e.position + '\\n').join(''));
  },
  options: { retryInitialMs: 20 },
};
`,
    );
    const runtime = await startRuntime({ root, args: ['--projection', file] });
    await execute(runtime.url, 'counter', 'c', 'Increment', { amount: 1 });
    await expect
      .poll(() => existsSync(join(root.root, 'seen')) && readFileSync(join(root.root, 'seen'), 'utf8'), { timeout: 10_000 })
      .toBe('1\n');
    const failures = runtime.logs.filter((l) => l.msg.startsWith('projection failed'));
    expect(failures.map((l) => [l.projection, l.failures, l.error])).toEqual([
      ['flaky', 1, 'read model unavailable (attempt 1)'],
      ['flaky', 2, 'read model unavailable (attempt 2)'],
    ]);
    const metrics = (await request(`${runtime.url}/metrics`)).body as string;
    expect(metrics).toContain('thalo_projection_failures{projection="flaky"} 0');
    expect(await runtime.stop()).toBe(0);
  });

  it('does not start with a file it cannot use, naming the file', async () => {
    const root = tempRoot();
    const bad = join(root.root, 'bad.mjs');
    writeFileSync(bad, 'export default { name: "nameless-handler" };\n');
    const missing = spawnRuntime({ root, args: ['--projection', join(root.root, 'missing.mjs')] });
    expect(await missing.exited).toBe(1);
    expect(missing.logs.find((l) => l.level === 60)?.msg).toMatch(/^cannot start: projection file .*missing\.mjs cannot be imported/);
    const shapeless = spawnRuntime({ root, args: ['--projection', bad] });
    expect(await shapeless.exited).toBe(1);
    expect(shapeless.logs.find((l) => l.level === 60)?.msg).toMatch(/bad\.mjs: its default export's handle must be a function/);
  });
});
