/**
 * `thalo projections`: the runtime's consumers of the log (in-process projections, relays and
 * remote subscribers) as a table of name, kind, status, checkpoint position and lag.
 */
import type { Command } from 'commander';
import type { ProjectionEntry } from '../../client/index.js';
import { clientOf, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

const COLUMNS = ['NAME', 'KIND', 'STATUS', 'POSITION', 'LAG'] as const;

/** The table `thalo projections` prints: left-aligned text columns, right-aligned numbers. */
export function projectionTable(entries: ProjectionEntry[]): string {
  const rows = entries.map((e) => [e.name, e.kind, e.status, String(e.position), String(e.lag)]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i >= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), ...rows.map(line)].join('\n');
}

export function registerProjections(program: Command): void {
  withConnection(
    program
      .command('projections')
      .description('list the projections, relays and remote subscribers, with their checkpoint position and lag'),
  ).action(async (options: ConnectionOptions) => {
    await reportFailure(options, async () => {
      const list = await clientOf(options).projections();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      if (list.projections.length === 0) {
        process.stdout.write('no projections, relays or subscribers\n');
        return;
      }
      process.stdout.write(`${projectionTable(list.projections)}\n`);
    });
  });
}
