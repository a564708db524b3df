/** `thalo stream <aggregate> <id>`: print every event of one aggregate, oldest first. */
import type { Command } from 'commander';
import { streamName } from '../../aggregate-name.js';
import { clientOf, eventLine, positiveInteger, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

interface StreamOptions extends ConnectionOptions {
  from?: string;
}

export function registerStream(program: Command): void {
  const command = withConnection(
    program
      .command('stream')
      .description('print the events of one aggregate (one per line; --json: one JSON object per line)')
      .argument('<aggregate>', 'aggregate name')
      .argument('<id>', 'aggregate id')
      .option('--from <seq>', 'first stream version to print', '1'),
  );
  command.action(async (aggregate: string, id: string, options: StreamOptions) => {
    let from: number | null = positiveInteger(command, options.from, '--from', 1);
    await reportFailure(options, async () => {
      const client = clientOf(options);
      let count = 0;
      while (from !== null) {
        const page = await client.readStream(aggregate, id, { from });
        for (const event of page.events) process.stdout.write(`${options.json ? JSON.stringify(event) : eventLine(event)}\n`);
        count += page.events.length;
        from = page.next;
      }
      if (!options.json && count === 0) process.stderr.write(`${streamName(aggregate, id)} has no events\n`);
    });
  });
}
