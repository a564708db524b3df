/**
 * `thalo build`: compile an AssemblyScript aggregate directory into `<out>/<name>.wasm` with the
 * optimised settings the guest SDK is written for, and validate the result against the ABI before
 * writing it, so a module that would be refused at load never lands in a modules directory.
 * A directory with a `Cargo.toml` is a Rust crate instead, built by `build-rust.ts`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ThaloError } from '../errors.js';
import { aggregateNameProblem } from '../aggregate-name.js';
import { compileModule } from '../wasm/index.js';
import type { AggregateModule } from '../wasm/index.js';
import { buildRustCrate, isRustCrate } from './build-rust.js';

/** Compiler flags: optimised, no assertions, and a runtime with a GC so dropped states are freed. */
export const ASC_FLAGS = ['-O3', '--noAssert', '--runtime', 'minimal'];

/** Where an aggregate directory keeps its entry file. */
export function entryOf(dir: string): string | undefined {
  return ['index.ts', 'assembly/index.ts'].map((f) => join(dir, f)).find((f) => existsSync(f));
}

export interface BuildResult {
  file: string;
  module: AggregateModule;
  bytes: number;
}

/** The package's root (where `guest/` is), from dist/src/cli/ or src/cli/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'guest', 'index.ts')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const PACKAGE_ROOT = packageRoot();

/**
 * asc's file reader, with `thalo-node/guest…` imports served from this package: asc looks a
 * package import up in every `node_modules` above the importing file, so an aggregate anywhere
 * (a user's `src/aggregates/x/`, an example in this repository) compiles against the SDK of the
 * `thalo` that builds it, whether or not its project has the package installed where asc looks.
 */
async function readSource(file: string, baseDir: string): Promise<string | null> {
  const path = resolve(baseDir, file);
  const sdk = /[\\/]node_modules[\\/]thalo-node[\\/](guest[\\/].*)$/.exec(path);
  try {
    return await readFile(sdk ? join(PACKAGE_ROOT, sdk[1]!) : path, 'utf8');
  } catch {
    return null;
  }
}

/** A compiled aggregate, validated against the ABI, not written anywhere. */
export interface CompiledAggregate {
  binary: Uint8Array;
  module: AggregateModule;
}

/**
 * Compile `dir` in memory and validate it. Throws `BUILD_FAILED` with the compiler's message, or
 * with the fix for the two mistakes a compiler cannot see (no `register`, no exports line).
 */
export async function compileAggregate(dir: string, file?: string): Promise<CompiledAggregate> {
  const source = resolve(dir);
  const name = basename(source);
  const problem = aggregateNameProblem(name);
  if (problem !== undefined) {
    throw new ThaloError('BUILD_FAILED', `${dir}: ${problem}, and the module is named after its directory`, { data: { dir } });
  }
  if (isRustCrate(source)) {
    const binary = await buildRustCrate(dir);
    return { binary, module: await compileModule(binary, file ?? join(source, `${name}.wasm`)) };
  }
  const entry = entryOf(source);
  if (!entry) throw new ThaloError('BUILD_FAILED', `${dir}: no index.ts or assembly/index.ts to compile`, { data: { dir } });
  // asc (with binaryen) takes seconds to import: load it when a build runs, not with every
  // command of the CLI (`thalo execute` imports this file too) or every test that loads a module.
  const [{ default: asc }, { DataTransform, DataTransformError }] = await Promise.all([
    import('assemblyscript/asc'),
    import('./data-transform.js'),
  ]);
  const stderr = asc.createMemoryStream();
  let binary: Uint8Array | undefined;
  const { error } = await asc.main([entry, '--outFile', `${name}.wasm`, ...ASC_FLAGS], {
    stdout: asc.createMemoryStream(),
    stderr,
    readFile: readSource,
    transforms: [new DataTransform() as never],
    writeFile: (file, contents) => {
      if (file.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
  });
  if (error || !binary) {
    const output = (error instanceof DataTransformError ? error.message : stderr.toString()).replace(/^FAILURE .*$/m, '').trim();
    throw new ThaloError('BUILD_FAILED', `${dir}: compilation failed${output ? `\n${output}` : error ? `: ${error.message}` : ''}`, {
      data: { dir },
    });
  }
  const exported = new Set(WebAssembly.Module.exports(new WebAssembly.Module(binary)).map((e) => e.name));
  if (!exported.has('thalo_abi_version')) {
    throw new ThaloError(
      'BUILD_FAILED',
      `${dir}: the module does not export the function thalo_abi_version (nor the rest of the ABI): add the line\n  export * from "thalo-node/guest/exports";\nto ${basename(entry)}, which exports the functions the runtime calls`,
      { data: { dir } },
    );
  }
  const module = await compileModule(binary, file ?? join(source, `${name}.wasm`));
  if (module.description.commands.length === 0) {
    throw new ThaloError(
      'BUILD_FAILED',
      `${dir}: the module registers no aggregate (no commands): call register once at the top level of ${basename(entry)}, as in\n  register("${name}", "1.0.0", ["SomeCommand"], ["SomeEvent"], (id: string): Aggregate => new ${name[0]!.toUpperCase()}${name.slice(1)}());`,
      { data: { dir } },
    );
  }
  return { binary, module };
}

/** Compile `dir` and write `<outDir>/<basename(dir)>.wasm`. Throws `BUILD_FAILED` with the compiler's message. */
export async function buildAggregate(dir: string, outDir: string): Promise<BuildResult> {
  const file = join(resolve(outDir), `${basename(resolve(dir))}.wasm`);
  const { binary, module } = await compileAggregate(dir, file);
  await mkdir(resolve(outDir), { recursive: true });
  // Write then rename: a runtime watching the directory never sees half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, binary);
  await rename(partial, file);
  return { file, module, bytes: binary.length };
}

/** `thalo build <dir> [-o modules]`, added to the `thalo` program by `src/cli/thalo.ts`. */
export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('compile an aggregate directory (AssemblyScript, or a Rust crate) into <out>/<name>.wasm and validate it against the ABI')
    .argument('<dir>', 'the aggregate directory (with index.ts or assembly/index.ts, or a Rust crate with Cargo.toml)')
    .option('-o, --out <dir>', 'output directory', 'modules')
    .action(async (dir: string, options: { out: string }) => {
      const { file, module, bytes } = await buildAggregate(dir, options.out);
      const { description } = module;
      console.log(
        `built ${file} (${bytes} bytes): ${module.name} ${description.version}, commands ${description.commands.join(', ')}; events ${description.events.join(', ')}`,
      );
    });
}
