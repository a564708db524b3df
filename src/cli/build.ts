/**
 * `thalo build`: compile an AssemblyScript aggregate directory into `<out>/<name>.wasm` with the
 * optimised settings the guest SDK is written for, and validate the result against the ABI before
 * writing it, so a module that would be refused at load never lands in a modules directory.
 * A directory with a `Cargo.toml` is a Rust crate instead, built by `build-rust.ts`.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import asc from 'assemblyscript/asc';
import type { Command } from 'commander';
import { ThaloError } from '../errors.js';
import { aggregateNameProblem } from '../aggregate-name.js';
import { compileModule } from '../wasm/index.js';
import { buildRustCrate, isRustCrate } from './build-rust.js';
import type { AggregateModule } from '../wasm/index.js';

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

/** Compile `dir` and write `<outDir>/<basename(dir)>.wasm`. Throws `BUILD_FAILED` with the compiler's message. */
export async function buildAggregate(dir: string, outDir: string): Promise<BuildResult> {
  const source = resolve(dir);
  const name = basename(source);
  const problem = aggregateNameProblem(name);
  if (problem !== undefined) {
    throw new ThaloError('BUILD_FAILED', `${dir}: ${problem}, and the module is named after its directory`, { data: { dir } });
  }
  const binary = isRustCrate(source) ? await buildRustCrate(dir) : await compileAssemblyScript(dir, source, name);
  const file = join(resolve(outDir), `${name}.wasm`);
  const module = await compileModule(binary, file);
  await mkdir(resolve(outDir), { recursive: true });
  // Write then rename: a runtime watching the directory never sees half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, binary);
  await rename(partial, file);
  return { file, module, bytes: binary.length };
}

/** asc's output for the aggregate directory `source` (`dir` as the user gave it, for messages). */
async function compileAssemblyScript(dir: string, source: string, name: string): Promise<Uint8Array> {
  const entry = entryOf(source);
  if (!entry) throw new ThaloError('BUILD_FAILED', `${dir}: no index.ts or assembly/index.ts to compile`, { data: { dir } });
  const stderr = asc.createMemoryStream();
  let binary: Uint8Array | undefined;
  const { error } = await asc.main([entry, '--outFile', `${name}.wasm`, ...ASC_FLAGS], {
    stdout: asc.createMemoryStream(),
    stderr,
    writeFile: (file, contents) => {
      if (file.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
  });
  if (error || !binary) {
    const output = stderr.toString().trim();
    throw new ThaloError('BUILD_FAILED', `${dir}: compilation failed${output ? `\n${output}` : error ? `: ${error.message}` : ''}`, {
      data: { dir },
    });
  }
  return binary;
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
