/**
 * `npm run bench:cluster`: 1, 2 and 3 `thalo-runtime` nodes on one PostgreSQL store, on this
 * machine, with clients that spread their batches over all nodes (round robin). Either any
 * aggregates go in each batch, as behind a load balancer that knows nothing of ownership, so about
 * (N-1)/N of the commands are forwarded to their owner; or each batch holds the aggregates its
 * node owns, as a client that routes by owner sends them. Prints durable commands/s, p50/p99 per
 * batch request, the forwarded share (from the nodes' /metrics), and CPU per command: each node,
 * PostgreSQL's processes and the load generator.
 *
 * After each run it checks, in PostgreSQL, that no acknowledged command was lost or duplicated:
 * every acknowledged command's event has a position of its own, and the log holds exactly those.
 * Exits non-zero if it was not so, or if 3 nodes stay under 15,000 commands/s (the bar of issue 16).
 *
 * The nodes share the machine's cores with PostgreSQL and the load generator: the figures are what
 * this machine gives, not what N machines would; docs/cluster.md gives the model for N machines.
 *
 * Environment: THALO_POSTGRES_URL (default the local `test` database), BENCH_CLUSTER_SECONDS
 * (default 10 per run), BENCH_CLUSTER_NODES (default "1,2,3"), BENCH_CLUSTER_WORKERS (worker
 * threads per node, default 1: with three nodes on two cores, more threads cost more than they
 * give), BENCH_CLUSTER_BATCH (commands per request, default 200),
 * BENCH_CLUSTER_CONNECTIONS (requests in flight per node, default 16: a node waits on
 * PostgreSQL's round trips rather than on its CPU, so the commands in flight set the batch sizes
 * and the throughput), BENCH_CLUSTER_COMMAND_IDS ("0,1" by default: a row without command ids and
 * one with an id on every command, as a client that retries on another node must send; the ids
 * cost PostgreSQL a lookup and an index entry each),
 * BENCH_CLUSTER_ROUTING (default "spread,owner": both rows for each node count; see `Routing`),
 * BENCH_CLUSTER_NODE_FLAGS (Node flags for the nodes' processes, e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to profile them).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import pg from 'pg';
import { Rendezvous } from '../src/cluster/index.js';
import { startClusterNode, stopClusterNode } from './cluster-nodes.js';
import type { ClusterNode as Node } from './cluster-nodes.js';
import { describeMachine, percentile, processCpuSeconds } from './machine.js';

const URL = process.env.THALO_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_CLUSTER_SECONDS ?? 10);
const NODE_COUNTS = (process.env.BENCH_CLUSTER_NODES ?? '1,2,3').split(',').map(Number);
const WORKERS = Number(process.env.BENCH_CLUSTER_WORKERS ?? 1);
const BATCH = Number(process.env.BENCH_CLUSTER_BATCH ?? 200);
const CONNECTIONS = Number(process.env.BENCH_CLUSTER_CONNECTIONS ?? 16);
/** Whether the commands carry command ids: "0", "1", or "0,1" (default) for a row of each. */
const ID_MODES = (process.env.BENCH_CLUSTER_COMMAND_IDS ?? '0,1').split(',').map((v) => v.trim() === '1');
const NODE_FLAGS = (process.env.BENCH_CLUSTER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const AGGREGATES = 10_000;
const TOKEN = 'bench-cluster-token';
const BAR_NODES = 3;
const BAR_COMMANDS_PER_S = 15_000;

/** CPU seconds of every PostgreSQL server process on this machine (0 where none can be read). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.indexOf(')')).startsWith('postgres')) total += processCpuSeconds(Number(entry));
    } catch {
      // A process that ended between the listing and the read.
    }
  }
  return total;
}

async function forwardedCommands(node: Node): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('thalo_forwarded_commands_total')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolvePost, reject) => {
    const req = request(`${url}/v1/commands`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePost({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface RunResult {
  nodes: number;
  routing: Routing;
  commandIds: boolean;
  commandsPerS: number;
  p50: number;
  p99: number;
  forwardedShare: number;
  nodeCpuUs: number[];
  postgresCpuUs: number;
  /** Append transactions committed per second in the run (the nodes' batches; reads and lease renewals not counted). */
  commitsPerS: number;
  clientCpuUs: number;
  acknowledged: number;
  failed: number;
  problems: string[];
}

/**
 * How the clients pick a node for a batch: `spread`, round robin over the nodes with any
 * aggregates in each batch (a load balancer that knows nothing of ownership: most commands are
 * forwarded); `owner`, round robin too, but each batch holds only aggregates that the node it goes
 * to owns (as a client that computes the owner with rendezvous hashing over `GET /v1/cluster`'s
 * nodes: nothing is forwarded). The aggregates and their share of commands are the same.
 */
type Routing = 'spread' | 'owner';
const ROUTINGS = (process.env.BENCH_CLUSTER_ROUTING ?? 'spread,owner').split(',') as Routing[];

/** For each node, the aggregate ids to put in its batches. */
async function idsByNode(nodes: Node[], routing: Routing): Promise<string[][]> {
  const all = Array.from({ length: AGGREGATES }, (_, i) => `c-${i}`);
  if (routing === 'spread') return nodes.map(() => all);
  const view = (await (await fetch(`${nodes[0]!.url}/v1/cluster`)).json()) as { nodes: { id: string; url: string }[] };
  const idOf = new Map(view.nodes.map((n) => [n.url, n.id]));
  if (nodes.some((n) => !idOf.has(n.url)))
    throw new Error(`GET /v1/cluster lists ${view.nodes.length} nodes, ${nodes.length} were started`);
  const owners = new Rendezvous(idOf.values());
  return nodes.map((node) => all.filter((id) => owners.ownerOf(`counter-${id}`) === idOf.get(node.url)));
}

/** Round-robin batches over the nodes for `seconds`; each acknowledged command's position is kept. */
async function load(
  nodes: Node[],
  ids: string[][],
  commandIds: boolean,
  seconds: number,
  positions: number[] | undefined,
): Promise<{ acknowledged: number; failed: number; latencies: number[] }> {
  const latencies: number[] = [];
  let acknowledged = 0;
  let failed = 0;
  const next = nodes.map(() => 0);
  let turn = 0;
  const end = performance.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const k = turn++ % nodes.length;
      const node = nodes[k]!;
      const own = ids[k]!;
      const commands = Array.from({ length: BATCH }, () => ({
        aggregate: 'counter',
        id: own[next[k]!++ % own.length]!,
        command: 'Increment',
        payload: { amount: 1 },
        ...(commandIds ? { commandId: randomUUID() } : {}),
      }));
      const t0 = performance.now();
      const answer = await post(node.url, JSON.stringify({ commands }));
      latencies.push(performance.now() - t0);
      if (answer.status !== 200) {
        failed += BATCH;
        continue;
      }
      for (const r of (JSON.parse(answer.body) as { results: { status: number; result?: { events: { position: number }[] } }[] }).results) {
        if (r.status === 200) {
          acknowledged++;
          if (positions) for (const e of r.result!.events) positions.push(e.position);
        } else failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS * nodes.length }, loop));
  return { acknowledged, failed, latencies };
}

async function measure(count: number, routing: Routing, commandIds: boolean): Promise<RunResult> {
  const schema = `thalo_bench_cluster_${randomBytes(4).toString('hex')}`;
  const db = new pg.Client({ connectionString: URL });
  await db.connect();
  const nodes: Node[] = [];
  try {
    // One after the other: the first creates the schema, each joins the membership the others see.
    for (let i = 0; i < count; i++)
      nodes.push(await startClusterNode({ store: URL, schema, token: TOKEN, workers: WORKERS, flags: NODE_FLAGS }));
    await new Promise((r) => setTimeout(r, 2_000));
    const ids = await idsByNode(nodes, routing);
    await load(nodes, ids, commandIds, 2, undefined);
    const headBefore = Number((await db.query(`SELECT position FROM "${schema}".log_head`)).rows[0].position);
    const forwardedBefore = (await Promise.all(nodes.map(forwardedCommands))).reduce((a, b) => a + b, 0);
    const cpuBefore = nodes.map((n) => processCpuSeconds(n.child.pid!));
    const pgBefore = postgresCpuSeconds();
    const clientBefore = process.cpuUsage();
    const positions: number[] = [];
    const started = performance.now();
    const { acknowledged, failed, latencies } = await load(nodes, ids, commandIds, SECONDS, positions);
    const elapsed = (performance.now() - started) / 1000;
    const client = process.cpuUsage(clientBefore);
    const pgCpu = postgresCpuSeconds() - pgBefore;
    const nodeCpu = nodes.map((n, i) => processCpuSeconds(n.child.pid!) - cpuBefore[i]!);
    const forwarded = (await Promise.all(nodes.map(forwardedCommands))).reduce((a, b) => a + b, 0) - forwardedBefore;
    const headAfter = Number((await db.query(`SELECT position FROM "${schema}".log_head`)).rows[0].position);
    // Every event of one commit carries the commit's time: the run's distinct times count its commits.
    const commits = Number(
      (
        await db.query(`SELECT count(DISTINCT recorded_at) AS commits FROM "${schema}".events WHERE position > $1 AND position <= $2`, [
          headBefore,
          headAfter,
        ])
      ).rows[0].commits,
    );

    const problems: string[] = [];
    const distinct = new Set(positions);
    if (distinct.size !== positions.length) problems.push(`${positions.length - distinct.size} acknowledged events share a position`);
    if (headAfter - headBefore !== acknowledged)
      problems.push(`the log grew by ${headAfter - headBefore} events during the run, ${acknowledged} commands were acknowledged`);
    for (const position of positions)
      if (position <= headBefore || position > headAfter) {
        problems.push(`an acknowledged event at position ${position}, outside the run's ${headBefore + 1}..${headAfter}`);
        break;
      }
    latencies.sort((a, b) => a - b);
    const us = (cpu: number) => (cpu * 1e6) / Math.max(1, acknowledged);
    return {
      nodes: count,
      routing,
      commandIds,
      commandsPerS: acknowledged / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      forwardedShare: forwarded / Math.max(1, acknowledged),
      nodeCpuUs: nodeCpu.map(us),
      postgresCpuUs: us(pgCpu),
      commitsPerS: commits / elapsed,
      clientCpuUs: us((client.user + client.system) / 1e6),
      acknowledged,
      failed,
      problems,
    };
  } finally {
    await Promise.all(nodes.map(stopClusterNode));
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  }
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => String(c).padStart(i === 0 ? 6 : i === 1 ? 8 : i === 2 ? 4 : 12)).join(' ');
}

console.log(describeMachine());
console.log(
  `cluster: counter Increment on ${AGGREGATES} aggregates, batches of ${BATCH}, ${CONNECTIONS} requests in flight per node, round robin over the nodes (spread: any aggregates per batch; owner: the node's own), with and without a command id on each command, ${WORKERS} worker(s) per node, ${SECONDS} s per run, durable, PostgreSQL at 127.0.0.1`,
);
console.log(
  row([
    'nodes',
    'routing',
    'ids',
    'commands/s',
    'p50 ms',
    'p99 ms',
    'forwarded',
    'µs CPU/cmd',
    'per node',
    'PostgreSQL',
    'client',
    'PG commits/s',
    'failed',
  ]),
);
let ok = true;
const best = new Map<number, number>();
for (const count of NODE_COUNTS) {
  for (const routing of ROUTINGS) {
    for (const commandIds of ID_MODES) {
      const r = await measure(count, routing, commandIds);
      best.set(count, Math.max(best.get(count) ?? 0, r.commandsPerS));
      const total = r.nodeCpuUs.reduce((a, b) => a + b, 0);
      console.log(
        row([
          r.nodes,
          r.routing,
          r.commandIds ? 'yes' : 'no',
          Math.round(r.commandsPerS),
          r.p50.toFixed(1),
          r.p99.toFixed(1),
          `${(r.forwardedShare * 100).toFixed(0)}%`,
          total.toFixed(1),
          r.nodeCpuUs.map((u) => u.toFixed(0)).join('/'),
          r.postgresCpuUs.toFixed(1),
          r.clientCpuUs.toFixed(1),
          Math.round(r.commitsPerS),
          r.failed,
        ]),
      );
      for (const problem of r.problems) console.log(`  LOST OR DUPLICATED: ${problem}`);
      if (r.problems.length > 0 || r.failed > 0) ok = false;
    }
  }
}
if (best.has(BAR_NODES) && best.get(BAR_NODES)! < BAR_COMMANDS_PER_S) {
  console.log(`below the bar: ${BAR_NODES} nodes must reach ${BAR_COMMANDS_PER_S} commands/s`);
  ok = false;
}
console.log(
  'µs CPU/cmd: all nodes together (per node: each), PostgreSQL server processes, and this load generator, per acknowledged command',
);
agent.destroy();
if (!ok) process.exitCode = 1;
