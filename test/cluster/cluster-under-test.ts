/**
 * A cluster of `thalo-runtime` nodes for process tests: N nodes, each its own succession of
 * processes ("generations", see test/torture/runtime-under-test.ts) on a port of its own, all on
 * one PostgreSQL store and schema, advertising `http://127.0.0.1:<port>` with one cluster token.
 * A node keeps its port across restarts (one that no other test can be handed meanwhile,
 * `restartablePort`); each start is a new member (a new node id).
 *
 * As the command ledger's target it spreads the requests over the nodes that are up, as clients
 * behind a load balancer that knows nothing of ownership would.
 */
import { restartablePort } from '../services.js';
import { tempRoot } from '../server/runtime-process.js';
import { RuntimeUnderTest } from '../torture/runtime-under-test.js';
import type { Generation } from '../torture/runtime-under-test.js';
import type { CommandTarget } from '../torture/command-ledger.js';

export const CLUSTER_TOKEN = 'cluster-test-token';

export interface ClusterNodeOptions {
  store: string;
  schema: string;
  /** More runtime flags, the same on every node (projections, relays, --lease-ms). */
  args?: string[];
  env?: Record<string, string>;
}

export interface ClusterNode {
  index: number;
  port: number;
  url: string;
  runtime: RuntimeUnderTest;
}

export class ClusterUnderTest implements CommandTarget {
  readonly nodes: ClusterNode[] = [];
  private turn = 0;

  private constructor(private readonly random: () => number) {}

  /** Start `count` nodes, one after the other (each start migrates or finds the schema). */
  static async start(count: number, options: ClusterNodeOptions, random: () => number = Math.random): Promise<ClusterUnderTest> {
    const cluster = new ClusterUnderTest(random);
    for (let index = 0; index < count; index++) await cluster.addNode(options);
    return cluster;
  }

  /** Start one more node. */
  async addNode(options: ClusterNodeOptions): Promise<ClusterNode> {
    const port = await restartablePort();
    const url = `http://127.0.0.1:${port}`;
    const args = [
      '--workers',
      '1',
      '--port',
      String(port),
      '--store',
      options.store,
      '--schema',
      options.schema,
      '--advertise',
      url,
      '--cluster-token',
      CLUSTER_TOKEN,
      ...(options.args ?? []),
    ];
    const runtime = new RuntimeUnderTest(tempRoot(), args, options.env);
    const node: ClusterNode = { index: this.nodes.length, port, url, runtime };
    await runtime.start();
    this.nodes.push(node);
    return node;
  }

  /** The nodes serving now. */
  upNodes(): ClusterNode[] {
    return this.nodes.filter((n) => n.runtime.isUp());
  }

  /** A node serving now, picked at random; when none is up, the first that comes up. */
  async serving(): Promise<Generation> {
    const up = this.upNodes();
    if (up.length > 0) return up[Math.floor(this.random() * up.length)]!.runtime.serving();
    return Promise.race(this.nodes.map((n) => n.runtime.serving()));
  }

  /** Another node (at random) after a short pause: the one that failed may be the one killed. */
  async retryTarget(): Promise<Generation> {
    await new Promise((r) => setTimeout(r, 50));
    return this.serving();
  }

  /** Each node in turn, for reads that should work on any of them. */
  async next(): Promise<Generation> {
    const up = this.upNodes();
    if (up.length === 0) return this.serving();
    return up[this.turn++ % up.length]!.runtime.serving();
  }

  /** Generations that ended without our signal, on any node. */
  unexpectedExits(): { node: number; generation: Generation }[] {
    return this.nodes.flatMap((n) => n.runtime.unexpectedExits().map((generation) => ({ node: n.index, generation })));
  }

  /** SIGTERM every node; resolves with their exit codes. */
  async stop(): Promise<(number | null)[]> {
    return Promise.all(this.nodes.map((n) => n.runtime.stop()));
  }

  close(): void {
    for (const node of this.nodes) node.runtime.close();
  }
}
