/**
 * Cluster nodes for the benchmarks (bench/cluster.ts, bench/forwarding.ts): `thalo-runtime`
 * processes on one PostgreSQL schema, each on a free port it advertises, started one after the
 * other and ready once `/readyz` answers; their ids as `GET /v1/cluster` names them.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const MODULES = resolve(process.env.THALO_BENCH_MODULES ?? 'modules');
const RUNTIME = resolve('dist/src/cli/runtime.js');

export interface ClusterNode {
  /** The node's id in the cluster (new at each start). */
  id: string;
  url: string;
  child: ChildProcess;
}

export interface NodeSettings {
  store: string;
  schema: string;
  token: string;
  workers: number;
  /** Node flags for the process (e.g. --cpu-prof). */
  flags?: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.once('error', reject);
  });
}

/** Starts a node (logging warnings only) and resolves once it is ready. */
export async function startClusterNode(settings: NodeSettings): Promise<ClusterNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [RUNTIME, '--port', String(port), '--workers', String(settings.workers), '--modules', MODULES];
  args.push('--store', settings.store, '--schema', settings.schema, '--advertise', url, '--cluster-token', settings.token);
  args.push('--log-level', 'warn');
  const child = spawn(process.execPath, [...(settings.flags ?? []), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`a node exited with ${code} before it was ready`))),
  );
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      const { self } = (await (await fetch(`${url}/v1/cluster`)).json()) as { self: string };
      return { id: self, url, child };
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  child.kill('SIGKILL');
  throw new Error(`a node at ${url} was not ready within a minute`);
}

/** SIGTERM, and resolves once the process has exited. */
export async function stopClusterNode(node: ClusterNode): Promise<void> {
  if (node.child.exitCode !== null) return;
  const exited = new Promise((r) => node.child.once('exit', r));
  node.child.kill('SIGTERM');
  await exited;
}
