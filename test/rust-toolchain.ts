/**
 * Tests of the Rust examples and of `thalo build` on Rust crates need Debian's Rust toolchain
 * (README, "Rust aggregates"). Without it they fail with a message naming the install command,
 * unless THALO_SKIP_RUST=1 opts out (the README documents it), as test/services.ts does for
 * Redis and NATS.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RUST_INSTALL_COMMAND } from '../src/cli/build-rust.js';

/** Where `npm run build:modules` builds the Rust examples (modules/rust/<name>/). */
export const RUST_MODULES = resolve('modules/rust');

/**
 * One target directory for every Rust build of the tests, so serde and the thalo crate compile
 * once (cargo locks it, so parallel test files wait for each other instead of colliding).
 */
export const RUST_TARGET_DIR = resolve('guest-rust/target');

export function rustSkipped(): boolean {
  return process.env.THALO_SKIP_RUST === '1';
}

export function rustMissing(): string {
  return `install Debian's Rust toolchain (${RUST_INSTALL_COMMAND}) and run npm run build:modules, or set THALO_SKIP_RUST=1 to skip the Rust tests`;
}

/** The built Rust example `name`, or an error that says how to get it. */
export function rustExample(name: string): string {
  const file = join(RUST_MODULES, `${name}.wasm`);
  if (!existsSync(file)) throw new Error(`${file} is missing: ${rustMissing()}`);
  return file;
}

/** The example builds the shared example tests run against: [language, file of example `name`]. */
export function exampleBuilds(): [string, (name: string) => string][] {
  const builds: [string, (name: string) => string][] = [['AssemblyScript', (name) => join('modules', `${name}.wasm`)]];
  if (!rustSkipped()) builds.push(['Rust', rustExample]);
  return builds;
}
