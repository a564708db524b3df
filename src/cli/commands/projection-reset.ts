/**
 * `thalo projection reset <name> [--to <position>]`: move a projection's, relay's or remote
 * subscriber's checkpoint to a position (default 0), so that it replays the log from the
 * position after it.
 */
import type { Command } from 'commander';
import { clientOf, positiveInteger, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

interface ResetOptions extends ConnectionOptions {
  to?: string;
}

export function registerProjectionReset(program: Command): void {
  const group = program.command('projection').description('act on one projection, relay or remote subscriber');
  const command = withConnection(
    group
      .command('reset')
      .description(
        'set the checkpoint to a position, so that it replays from the next one (a relay republishes; a connected subscriber gets the events again)',
      )
      .argument('<name>', 'the projection, relay or subscriber name (as `thalo projections` lists it)')
      .option('--to <position>', 'the new checkpoint: the last position counted as processed', '0'),
  );
  command.action(async (name: string, options: ResetOptions) => {
    const position = positiveInteger(command, options.to, '--to', 0, 0);
    await reportFailure(options, async () => {
      const info = await clientOf(options).resetProjection(name, position);
      if (options.json) process.stdout.write(`${JSON.stringify(info)}\n`);
      else
        process.stdout.write(
          `Reset ${info.kind} ${info.name} to position ${info.position}: it replays from ${info.position + 1} (lag ${info.lag})\n`,
        );
    });
  });
}
