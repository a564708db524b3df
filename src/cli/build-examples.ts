/**
 * Builds every example aggregate under `modules/<name>/` into `modules/<name>.wasm`. Run by
 * `npm install` (the prepare script), so a fresh clone has modules to serve. `build-examples.js
 * modules/rust` builds the Rust examples the same way; without the Rust toolchain it says what to
 * install and builds nothing (the Rust tests then fail with the same advice, test/rust-toolchain.ts).
 */
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { findRustToolchain, isRustCrate } from './build-rust.js';
import { buildAggregate, entryOf } from './build.js';

const root = process.argv[2] ?? 'modules';
let dirs = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && (entryOf(join(root, d.name)) || isRustCrate(join(root, d.name))))
  .map((d) => join(root, d.name));

if (dirs.some(isRustCrate)) {
  const toolchain = await findRustToolchain();
  if ('missing' in toolchain) {
    process.stderr.write(`not building the Rust examples in ${root}: ${toolchain.missing}\n`);
    dirs = dirs.filter((dir) => !isRustCrate(dir));
  }
  // The examples share one target directory, so serde and the thalo crate compile once.
  process.env.CARGO_TARGET_DIR ??= resolve('guest-rust/target');
}

let failed = false;
for (const dir of dirs) {
  try {
    const { file, bytes } = await buildAggregate(dir, root);
    console.log(`built ${relative(process.cwd(), file)} (${bytes} bytes)`);
  } catch (error) {
    failed = true;
    process.stderr.write(`${(error as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
