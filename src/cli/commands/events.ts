/**
 * `thalo events --from <pos> [--follow]`: print the global log from a position; with `--follow`,
 * keep printing new events as they are committed (Server-Sent Events, resumed after a dropped
 * connection without missing or repeating one) until interrupted.
 */
import type { Command } from 'commander';
import { clientOf, eventLine, positiveInteger, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

interface EventsOptions extends ConnectionOptions {
  from?: string;
  limit?: string;
  follow?: boolean;
}

export function registerEvents(program: Command): void {
  const command = withConnection(
    program
      .command('events')
      .description('print the global log from a position (one event per line; --json: one JSON object per line)')
      .option('--from <position>', 'first global position', '1')
      .option('--limit <n>', 'print at most n events (without --follow)')
      .option('-f, --follow', 'keep printing new events as they are committed'),
  );
  command.action(async (options: EventsOptions) => {
    let from = positiveInteger(command, options.from, '--from', 1);
    let left = options.limit === undefined ? Infinity : positiveInteger(command, options.limit, '--limit', 0);
    const print = (event: Parameters<typeof eventLine>[0]) =>
      process.stdout.write(`${options.json ? JSON.stringify(event) : eventLine(event)}\n`);
    await reportFailure(options, async () => {
      const client = clientOf(options);
      if (options.follow) {
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        for await (const event of client.subscribe({ from, signal: stop.signal })) print(event);
        return;
      }
      // Print up to the head as it was when we started; later commits are for --follow.
      let head = Infinity;
      while (left > 0 && from <= head) {
        const page = await client.readAll({ from, limit: Math.min(1_000, left === Infinity ? 1_000 : left) });
        if (head === Infinity) head = page.lastPosition;
        if (page.events.length === 0) break;
        for (const event of page.events) if (event.position <= head) print(event);
        left -= page.events.length;
        from = page.next;
      }
    });
  });
}
