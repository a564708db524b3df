/**
 * `thalo subscriber delete <name>`: forget a remote subscriber. Its open streams end and its
 * checkpoint is removed, so it leaves `thalo projections` and the metrics, and frees its place
 * under the runtime's `--max-subscribers`. A client that subscribes under the name again starts
 * as a new subscriber.
 */
import type { Command } from 'commander';
import { clientOf, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

export function registerSubscriberDelete(program: Command): void {
  const group = program.command('subscriber').description('act on one remote subscriber');
  withConnection(
    group
      .command('delete')
      .description('forget a remote subscriber: end its open streams and remove its checkpoint')
      .argument('<name>', 'the subscriber name (as `thalo projections` lists it)'),
  ).action(async (name: string, options: ConnectionOptions) => {
    await reportFailure(options, async () => {
      const result = await clientOf(options).deleteSubscriber(name);
      if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`Deleted subscriber ${result.name}: its streams ended and its checkpoint is removed\n`);
    });
  });
}
