#!/usr/bin/env node
/**
 * `thalo`: the client CLI. Exit codes: 0 ok, 1 rejected or failed, 2 usage.
 */
import { Command, CommanderError } from 'commander';
import { buildAggregate } from './build.js';

const program = new Command('thalo')
  .description('Thalo for Node: build aggregate modules and talk to a running thalo-runtime')
  .exitOverride()
  .showHelpAfterError();

program
  .command('build')
  .description('compile an AssemblyScript aggregate directory into <out>/<name>.wasm and validate it')
  .argument('<dir>', 'the aggregate directory (with index.ts or assembly/index.ts)')
  .option('-o, --out <dir>', 'output directory', 'modules')
  .action(async (dir: string, options: { out: string }) => {
    const { file, module, bytes } = await buildAggregate(dir, options.out);
    console.log(`built ${file} (${bytes} bytes): ${module.description.name} ${module.description.version}, commands ${module.description.commands.join(', ')}`);
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
