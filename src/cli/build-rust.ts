/**
 * `thalo build` for a Rust crate (a directory with a `Cargo.toml`, using the `thalo` crate of
 * `guest-rust/`): cargo builds it for `wasm32-unknown-unknown` offline, binaryen shrinks it, and
 * `build.ts` validates it like any module.
 *
 * The toolchain is Debian's, found where Debian puts it: `rustc` 1.63 with its wasm32 standard
 * library (`libstd-rust-dev-wasm32`), `lld-14` as its linker, and the crates as `librust-*-dev`
 * packages in `/usr/share/cargo/registry`. No crate registry is reachable, so the build replaces
 * crates.io with that directory and sets `net.offline`, through `--config` flags (cargo ≥ 1.63):
 * nothing is written into the user's home or crate. A rustup `rustc` earlier on PATH has no wasm32
 * library, so `/usr/bin/rustc` and `/usr/bin/cargo` are preferred when they exist
 * (`THALO_RUSTC`, `THALO_CARGO` and `THALO_CARGO_REGISTRY` override each).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { ThaloError } from '../errors.js';

/** The one command that installs what a Rust build needs (README, "Rust aggregates"). */
export const RUST_INSTALL_COMMAND =
  'apt-get install -y rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-dev librust-serde-derive-dev librust-rmp-serde-dev librust-syn-dev librust-quote-dev librust-proc-macro2-dev';

const TARGET = 'wasm32-unknown-unknown';

/**
 * Release settings for every crate, so its Cargo.toml needs none: small code (the module is
 * shipped and compiled on every load), one codegen unit and LTO so that unused serde paths go.
 */
const PROFILE = [
  'profile.release.opt-level="s"',
  'profile.release.lto=true',
  'profile.release.codegen-units=1',
  'profile.release.panic="abort"',
  'profile.release.debug=false',
];

/** Exports the thalo crate adds that the host does not read; removed from the shipped module. */
const SNAPSHOT_MARKER = 'thalo_rust_snapshots';
const LINKER_EXPORTS = ['__data_end', '__heap_base'];

export interface RustToolchain {
  cargo: string;
  rustc: string;
  registry: string;
}

/** Whether `dir` holds a Rust crate rather than an AssemblyScript aggregate. */
export function isRustCrate(dir: string): boolean {
  return existsSync(join(dir, 'Cargo.toml'));
}

function preferred(variable: string, debian: string, fallback: string): string {
  return process.env[variable] || (existsSync(debian) ? debian : fallback);
}

/** The toolchain a build would use, or what is missing (a sentence ending with the install command). */
export async function findRustToolchain(): Promise<RustToolchain | { missing: string }> {
  const toolchain: RustToolchain = {
    cargo: preferred('THALO_CARGO', '/usr/bin/cargo', 'cargo'),
    rustc: preferred('THALO_RUSTC', '/usr/bin/rustc', 'rustc'),
    registry: process.env.THALO_CARGO_REGISTRY || '/usr/share/cargo/registry',
  };
  const hint = `install the toolchain with: ${RUST_INSTALL_COMMAND}`;
  const sysroot = await run(toolchain.rustc, ['--print', 'sysroot'], process.cwd()).catch(() => undefined);
  if (!sysroot || sysroot.code !== 0) return { missing: `no Rust compiler (${toolchain.rustc} does not run); ${hint}` };
  const sysrootDir = sysroot.stdout.trim();
  if (!existsSync(join(sysrootDir, 'lib', 'rustlib', TARGET))) {
    return { missing: `${toolchain.rustc} has no ${TARGET} standard library (in ${sysrootDir}); ${hint}` };
  }
  const cargo = await run(toolchain.cargo, ['--version'], process.cwd()).catch(() => undefined);
  if (!cargo || cargo.code !== 0) return { missing: `no cargo (${toolchain.cargo} does not run); ${hint}` };
  if (!existsSync(toolchain.registry)) {
    return { missing: `no crate directory at ${toolchain.registry}; ${hint}` };
  }
  return toolchain;
}

/**
 * Build the crate in `dir` and return the shrunk module's bytes (not yet validated). Throws
 * `BUILD_FAILED` with cargo's and rustc's output as they print it.
 */
export async function buildRustCrate(dir: string): Promise<Uint8Array> {
  const toolchain = await findRustToolchain();
  if ('missing' in toolchain)
    throw new ThaloError('BUILD_FAILED', `${dir}: cannot build a Rust crate: ${toolchain.missing}`, { data: { dir } });
  const config = [
    'source.crates-io.replace-with="debian-packages"',
    `source.debian-packages.directory=${JSON.stringify(toolchain.registry)}`,
    'net.offline=true',
    ...PROFILE,
  ];
  const args = [
    'build',
    '--release',
    '--target',
    TARGET,
    '--message-format=json-render-diagnostics',
    ...config.flatMap((c) => ['--config', c]),
  ];
  const result = await run(toolchain.cargo, args, dir, { RUSTC: toolchain.rustc, CARGO_TERM_COLOR: 'never' });
  // stderr holds cargo's progress and the compiler's diagnostics, rendered as rustc prints them.
  const printed = result.stderr
    .split('\n')
    .filter((line) => !/^\s+(Compiling|Blocking|Finished|Fresh)\b/.test(line))
    .join('\n')
    .trim();
  if (result.code !== 0) {
    const linker = /rust-lld|linker .* not found/.test(printed) ? `\n(the wasm32 linker is missing; ${RUST_INSTALL_COMMAND})` : '';
    throw new ThaloError('BUILD_FAILED', `${dir}: cargo build failed\n${printed}${linker}`, { data: { dir } });
  }
  const wasm = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { reason?: string; target?: { crate_types?: string[] }; filenames?: string[] })
    .filter((m) => m.reason === 'compiler-artifact' && m.target?.crate_types?.includes('cdylib'))
    .flatMap((m) => m.filenames ?? [])
    .find((file) => file.endsWith('.wasm'));
  if (!wasm) {
    throw new ThaloError(
      'BUILD_FAILED',
      `${dir}: the crate builds no WebAssembly library; add [lib] crate-type = ["cdylib"] to its Cargo.toml`,
      {
        data: { dir },
      },
    );
  }
  return shrink(await readFile(wasm));
}

/**
 * binaryen's size optimisation (-Oz), without debug sections, the linker's exports, and the
 * snapshot exports of an aggregate whose state has no serde (so the host never asks it).
 */
export function shrink(bytes: Uint8Array): Uint8Array {
  const snapshots = snapshotsOf(bytes);
  const module = binaryen.readBinary(bytes);
  try {
    for (const name of [...LINKER_EXPORTS, SNAPSHOT_MARKER]) if (module.getExport(name)) module.removeExport(name);
    if (snapshots === false) for (const name of ['thalo_snapshot', 'thalo_restore']) if (module.getExport(name)) module.removeExport(name);
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(2);
    binaryen.setDebugInfo(false);
    module.runPasses(['strip-debug', 'strip-dwarf', 'strip-producers']);
    module.optimize();
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/** What the crate's `thalo_rust_snapshots` says, or undefined when it cannot be asked. */
function snapshotsOf(bytes: Uint8Array): boolean | undefined {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { thalo: { log: () => undefined } });
    const marker = instance.exports[SNAPSHOT_MARKER];
    return typeof marker === 'function' ? marker() !== 0 : undefined;
  } catch {
    // Validation (build.ts) says what is wrong with a module that does not even instantiate.
    return undefined;
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
