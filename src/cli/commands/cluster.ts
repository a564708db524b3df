/**
 * `thalo cluster`: the cluster as the node at `--url` sees it: a table of the live nodes (id,
 * url, lease age, share of the aggregates; `*` marks the node that answered), then who holds
 * each projection's and relay's lease. `--json` prints `GET /v1/cluster` as it came.
 */
import type { Command } from 'commander';
import type { ClusterStatus } from '../../client/index.js';
import { clientOf, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

/** Left-aligned text columns, right-aligned from column `numbersFrom` on. */
function table(titles: readonly string[], rows: string[][], numbersFrom: number): string {
  const widths = titles.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i >= numbersFrom ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(titles), ...rows.map(line)].join('\n');
}

/** What `thalo cluster` prints for `status`. */
export function clusterReport(status: ClusterStatus): string {
  const lines: string[] = [];
  if (!status.live) lines.push(`node ${status.self} is out of the cluster (its lease lapsed): it lists no members and takes no commands`);
  const nodes = status.nodes.map((node) => [
    `${node.self ? '*' : ' '} ${node.id}`,
    node.url,
    `${node.leaseAgeMs} ms`,
    node.share === null ? '-' : `${(node.share * 100).toFixed(1)}%`,
  ]);
  lines.push(table(['  NODE', 'URL', 'LEASE AGE', 'SHARE'], nodes, 2));
  const basis = status.sample.complete ? 'all' : 'a sample of';
  lines.push(`shares over ${basis} ${status.sample.streams} streams`);
  const leases = [...status.projections, ...status.relays];
  if (leases.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['NAME', 'KIND', 'HOLDER', 'FENCE', 'EXPIRES IN'],
        leases.map((lease) => [lease.name, lease.kind, lease.holder ?? '(none)', String(lease.fence), `${lease.expiresInMs} ms`]),
        3,
      ),
    );
  }
  return lines.join('\n');
}

export function registerCluster(program: Command): void {
  withConnection(
    program
      .command('cluster')
      .description("list the cluster's live nodes, their lease age and share of the aggregates, and who holds each projection and relay"),
  ).action(async (options: ConnectionOptions) => {
    await reportFailure(options, async () => {
      const status = await clientOf(options).cluster();
      process.stdout.write(options.json ? `${JSON.stringify(status)}\n` : `${clusterReport(status)}\n`);
    });
  });
}
