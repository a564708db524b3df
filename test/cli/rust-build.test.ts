// Rust aggregates the way the original Thalo's users write them, at the level a user meets them:
// `thalo build <crate>` as a process, `thalo-runtime` serving the result, `thalo execute` printing
// what the original README shows. The seed (test/fixtures/rust-seed/counter) is the README's
// counter with only `use std::convert::Infallible;` added.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRustToolchain } from '../../src/cli/build-rust.js';
import { buildAggregate } from '../../src/cli/build.js';
import { Given, emitted, given } from '../wasm/scenario.js';
import { startRuntime, thalo } from '../server/runtime-process.js';
import { RUST_TARGET_DIR, rustMissing, rustSkipped } from '../rust-toolchain.js';

const env = { CARGO_TARGET_DIR: RUST_TARGET_DIR };
const scratch = mkdtempSync(join(tmpdir(), 'thalo-rust-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(rustSkipped())('thalo build on a Rust crate', () => {
  beforeAll(async () => {
    const toolchain = await findRustToolchain();
    if ('missing' in toolchain) throw new Error(`${toolchain.missing}; ${rustMissing()}`);
  });

  it("builds the original README's counter, which thalo-runtime serves and thalo execute runs as the README shows", async () => {
    const out = join(scratch, 'root');
    const built = await thalo(['build', 'test/fixtures/rust-seed/counter', '-o', join(out, 'modules')], env);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^built .*counter\.wasm \(\d+ bytes\): counter 0\.1\.0, commands Increment; events Incremented\n$/);
    // The seed's state has no serde, so the module offers no snapshots and the host never asks.
    const module = new WebAssembly.Module(await readFile(join(out, 'modules', 'counter.wasm')));
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(exports).toContain('thalo_handle');
    expect(exports).not.toContain('thalo_snapshot');
    expect(exports).not.toContain('thalo_restore');

    const runtime = await startRuntime({ root: { root: out, modules: join(out, 'modules'), data: join(out, 'data') } });
    await runtime.waitForLog((line) => line.msg.includes('loaded') && JSON.stringify(line).includes('counter.wasm'));
    const run = await thalo(['execute', 'counter', 'abc123', 'Increment', '{"amount":10}', '--url', runtime.url]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('Executed with 1 events:\n    Incremented  {"amount":10}\n');
    expect(run.code).toBe(0);

    // A u64 past 2^32 reaches serde as a msgpack integer; a negative one is the guest's INVALID_PAYLOAD.
    const large = await thalo(['execute', 'counter', 'abc123', 'Increment', '{"amount":1099511627776}', '--url', runtime.url]);
    expect(large.stdout).toBe('Executed with 1 events:\n    Incremented  {"amount":1099511627776}\n');
    const negative = await thalo(['execute', 'counter', 'abc123', 'Increment', '{"amount":-1}', '--url', runtime.url]);
    expect(negative.code).toBe(1);
    expect(negative.stderr).toContain('INVALID_PAYLOAD');
    expect(negative.stderr).toContain('Increment: invalid value: integer `-1`, expected u64');

    const stream = await thalo(['stream', 'counter', 'abc123', '--json', '--url', runtime.url]);
    const events = stream.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((e: { data: unknown }) => e.data)).toEqual([{ amount: 10 }, { amount: 2 ** 40 }]);
    // cargo and binaryen on a shared 2-core machine: generous, since nothing here is a timing claim.
  }, 180_000);

  it('shows a compile error as rustc prints it, and writes no module', async () => {
    const out = join(scratch, 'broken');
    const built = await thalo(['build', 'test/fixtures/rust-broken/broken', '-o', out], env);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain('test/fixtures/rust-broken/broken: cargo build failed');
    expect(built.stderr).toContain(
      [
        'error[E0308]: mismatched types',
        '  --> src/lib.rs:49:23',
        '   |',
        '49 |         self.count += event.amount;',
        '   |                       ^^^^^^^^^^^^ expected `&str`, found `u64`',
      ].join('\n'),
    );
    expect(readdirSync(scratch)).not.toContain('broken');
  }, 180_000);

  it('takes every enum shape docs/guest-rust.md promises: unit, struct and tuple variants, serde attributes, rejection data', async () => {
    process.env.CARGO_TARGET_DIR ??= RUST_TARGET_DIR;
    const { module } = await buildAggregate('test/fixtures/rust-shapes/shapes', join(scratch, 'shapes'));
    const state = given(module);
    // A unit command takes any payload; its unit event's data is nil.
    expect(state.when('Reset', { anything: [1, 2] })).toEqual(emitted(['WasReset', null]));
    // #[serde(rename)] and #[serde(default)] on a struct variant's fields; skip_serializing_if on the event's.
    expect(state.when('Add', { by: 5 })).toEqual(emitted(['Added', { by: 5 }]));
    const events = state.accept('Add', { by: 5, note: 'five' });
    // A tuple variant reads an array and writes one.
    expect(state.when('Pair', [2, 3])).toEqual(emitted(['Paired', [2, 3]], ['Added', { by: 5 }]));
    events.push(...state.accept('Pair', [2, 3]));
    expect(state.snapshot()).toEqual({ total: 10, notes: ['five'] });
    // A payload that does not fit the variant: INVALID_PAYLOAD with serde's message, before handle runs.
    expect(state.when('Add', { amount: 5 })).toEqual({ rejected: 'INVALID_PAYLOAD', message: 'Add: missing field `by`' });
    expect(state.when('Pair', { a: 1 })).toMatchObject({ rejected: 'INVALID_PAYLOAD' });
    // A rejection from the aggregate's own error, with data.
    expect(state.when('Add', { by: 91 })).toEqual({
      rejected: 'OVER_LIMIT',
      message: '10 + 91 is over 100',
      data: { total: 10, max: 100 },
    });
    // Replayed events and a restored snapshot give the same state.
    const replayed = given(module);
    replayed.instance.apply(replayed.handle, events);
    expect(replayed.snapshot()).toEqual({ total: 10, notes: ['five'] });
    const restored = new Given(state.instance, state.instance.restore('test', state.instance.snapshot(state.handle)));
    expect(restored.snapshot()).toEqual({ total: 10, notes: ['five'] });
    state.accept('Reset', null);
    expect(state.snapshot()).toEqual({ total: 0, notes: [] });
  }, 180_000);
});
