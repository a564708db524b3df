/**
 * What forwarding costs: two cluster nodes (`--workers 1` each) on one PostgreSQL schema, and
 * single-command requests sent to node A only, for aggregates A owns (executed there) or that B
 * owns (A forwards each to B over a kept-alive connection and relays the answer). Runs alternate,
 * local then forwarded, so that the machine's background load weighs on both alike; each prints
 * the commands/s, the p99, and the CPU per command of each node (from /proc/<pid>/stat), so the
 * row "forwarded" minus the row "local" on A is the CPU a hop costs the receiving node.
 *
 * The nodes, PostgreSQL and this load generator share the machine's cores: the throughput is the
 * machine's, the CPU per command is each process's own.
 *
 * Then the client side alone, interleaved: node:http's kept-alive Agent against undici's Agent (what
 * the forwarder uses), each POSTing a command-sized request to a trivial server in another
 * process, with this process's CPU per request. Measured here (2 cores, others working, so
 * noisy): node:http 60-95 µs, undici 39-77 µs per request, undici lower in 5 of 6 pairs.
 *
 * Environment: THALO_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_FORWARD_COMMANDS (per run, default 5,000), BENCH_FORWARD_CONCURRENCY (default 64),
 * BENCH_FORWARD_ROUNDS (pairs of runs, default 3).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { Agent } from 'undici';
import { Rendezvous } from '../src/cluster/rendezvous.js';
import { startClusterNode, stopClusterNode } from './cluster-nodes.js';
import type { ClusterNode as Node } from './cluster-nodes.js';
import { describeMachine, percentile, processCpuSeconds } from './machine.js';

const POSTGRES_URL = process.env.THALO_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const COMMANDS = Number(process.env.BENCH_FORWARD_COMMANDS ?? 5_000);
const CONCURRENCY = Number(process.env.BENCH_FORWARD_CONCURRENCY ?? 64);
const ROUNDS = Number(process.env.BENCH_FORWARD_ROUNDS ?? 3);

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: string, id: string): Promise<number> {
  return new Promise((resolvePost, reject) => {
    const request = http.request(`${url}/v1/aggregates/counter/${id}/commands/Increment`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json' },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolvePost(response.statusCode ?? 0));
    });
    request.end('{"amount":1}');
  });
}

async function run(label: string, entry: Node, nodes: Node[], ids: string[]): Promise<void> {
  const before = nodes.map((node) => processCpuSeconds(node.child.pid!));
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < COMMANDS; i = next++) {
        const sent = performance.now();
        if ((await post(entry.url, ids[i % ids.length]!)) !== 200) failed++;
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = nodes.map((node, i) => ((processCpuSeconds(node.child.pid!) - before[i]!) / COMMANDS) * 1e6);
  latencies.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(10)} ${String(Math.round(COMMANDS / seconds)).padStart(7)} cmd/s  p99 ${percentile(latencies, 99).toFixed(1).padStart(6)} ms  ` +
      `CPU/cmd A ${cpu[0]!.toFixed(0).padStart(4)} µs  B ${cpu[1]!.toFixed(0).padStart(4)} µs${failed ? `  FAILED ${failed}` : ''}`,
  );
}

/** CPU per request of this process's HTTP client, node:http against undici, against a trivial server in another process. */
async function clientCost(): Promise<void> {
  const answer = JSON.stringify({
    aggregate: 'counter',
    id: 'x',
    version: 3,
    events: [{ type: 'Incremented', data: { amount: 1 }, seq: 3 }],
  });
  const server = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.writeHead(200, { 'content-type': 'application/json' }); r.end(${JSON.stringify(answer)}); }); }); s.keepAliveTimeout = 72000; s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((done) => server.stdout!.once('data', (data) => done(Number(String(data).trim()))));
  const origin = `http://127.0.0.1:${port}`;
  const body = '{"amount":1}';
  const headers = { 'content-type': 'application/json', 'thalo-cluster-token': 'bench', 'content-length': String(body.length) };
  const path = '/v1/aggregates/counter/x/commands/Increment';
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const undici = new Agent({ connections: CONCURRENCY });
  const viaHttp = () =>
    new Promise<void>((done, reject) => {
      const request = http.request(`${origin}${path}`, { method: 'POST', agent: httpAgent, headers });
      request.on('error', reject);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(void Buffer.concat(chunks)));
      });
      request.end(body);
    });
  const viaUndici = async () => {
    const response = await undici.request({ origin, path, method: 'POST', headers, body });
    Buffer.from(await response.body.arrayBuffer());
  };
  const requests = 20_000;
  for (let round = 0; round < 3; round++) {
    for (const [label, send] of [
      ['node:http', viaHttp],
      ['undici', viaUndici],
    ] as const) {
      const cpu = process.cpuUsage();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next++ < requests) await send();
        }),
      );
      const used = process.cpuUsage(cpu);
      console.log(`client ${label.padEnd(9)} ${((used.user + used.system) / requests).toFixed(1).padStart(6)} µs CPU per request`);
    }
  }
  httpAgent.destroy();
  await undici.close();
  server.kill();
}

const schema = `thalo_bench_${randomBytes(4).toString('hex')}`;
console.log(describeMachine());
console.log(
  `two nodes (--workers 1) on ${POSTGRES_URL.replace(/\/\/[^@]*@/, '//')} schema ${schema}; ${COMMANDS} commands per run, ${CONCURRENCY} in flight, all sent to A`,
);
const settings = { store: POSTGRES_URL, schema, token: 'bench', workers: 1 };
const a = await startClusterNode(settings);
const b = await startClusterNode(settings);
try {
  // Both nodes must list both before B's aggregates are forwarded rather than run on A.
  await new Promise((done) => setTimeout(done, 2_000));
  const ring = new Rendezvous([a.id, b.id]);
  const ids = Array.from({ length: 4_000 }, (_, i) => `f${i}`);
  const onA = ids.filter((id) => ring.ownerOf(`counter-${id}`) === a.id);
  const onB = ids.filter((id) => ring.ownerOf(`counter-${id}`) === b.id);
  // Warm up: the states cached and the connections open.
  await run('warm-up', a, [a, b], [...onA, ...onB]);
  for (let round = 0; round < ROUNDS; round++) {
    await run('local', a, [a, b], onA);
    await run('forwarded', a, [a, b], onB);
  }
} finally {
  await Promise.all([a, b].map(stopClusterNode));
  agent.destroy();
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
await clientCost();
