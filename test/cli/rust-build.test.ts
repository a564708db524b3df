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
});
