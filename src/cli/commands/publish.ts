/** `thalo publish <name> <file>`: upload a module; the runtime validates it, serves it, and keeps it in its modules directory. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientOf, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

export function registerPublish(program: Command): void {
  const command = withConnection(
    program
      .command('publish')
      .description('upload an aggregate module to the runtime, which validates it before it serves')
      .argument('<name>', 'aggregate name the module serves as')
      .argument('<file>', 'the .wasm file'),
  );
  command.action(async (name: string, file: string, options: ConnectionOptions) => {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      command.error(`error: cannot read ${file}: ${(error as Error).message}`, { exitCode: 2 });
    }
    await reportFailure(options, async () => {
      const module = await clientOf(options).publish(name, bytes);
      if (options.json) process.stdout.write(`${JSON.stringify(module)}\n`);
      else
        process.stdout.write(
          `Published ${module.name} ${module.description.version} (${module.file}): commands ${module.description.commands.join(', ')}\n`,
        );
    });
  });
}
