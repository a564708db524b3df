/**
 * Cluster nodes as processes for the cluster's end-to-end tests: `thalo-runtime` on a port chosen
 * ahead (its `--advertise` URL must name it), one fresh PostgreSQL schema per test file, and the
 * ownership the nodes compute, computed here the same way.
 */
import { expect } from 'vitest';
import { Rendezvous } from '../../src/cluster/rendezvous.js';
import { POSTGRES } from '../store/postgres-helpers.js';
import type { RuntimeProcess } from '../server/runtime-process.js';
import { request, startRuntime } from '../server/runtime-process.js';
import { freePort } from '../services.js';

export const CLUSTER_TOKEN = 'test-cluster-secret';
/** Short leases so that a dead node drops out within a test; renewed every third of it. */
export const LEASE_MS = 1_500;

export interface ClusterNodeProcess extends RuntimeProcess {
  id: string;
}

/** Starts a node of the cluster in `schema`; `store` defaults to the test server (a proxy's URL to cut it). */
export async function startNode(
  schema: string,
  options: { store?: string; token?: string; leaseMs?: number; port?: number; args?: string[] } = {},
): Promise<ClusterNodeProcess> {
  const port = options.port ?? (await freePort());
  const runtime = await startRuntime({
    args: [
      '--workers',
      '1',
      '--port',
      String(port),
      '--store',
      options.store ?? POSTGRES.url,
      '--schema',
      schema,
      '--advertise',
      `http://127.0.0.1:${port}`,
      '--cluster-token',
      options.token ?? CLUSTER_TOKEN,
      '--lease-ms',
      String(options.leaseMs ?? LEASE_MS),
      ...(options.args ?? []),
    ],
  });
  const listening = runtime.logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith('listening on'))!;
  return { ...runtime, id: listening.node as string };
}

/** Polls `GET /v1/cluster` on `node` until its live members are exactly `ids`. */
export async function waitForMembers(
  node: ClusterNodeProcess,
  ids: string[],
  timeoutMs = 15_000,
  headers: Record<string, string> = {},
): Promise<any> {
  const wanted = [...ids].sort();
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const { status, body } = await request(`${node.url}/v1/cluster`, { headers }).catch((error) => ({ status: 0, body: String(error) }));
    last = body;
    if (status === 200 && JSON.stringify(body.nodes.map((n: { id: string }) => n.id).sort()) === JSON.stringify(wanted)) return body;
    if (Date.now() > deadline)
      expect.fail(`node ${node.id} did not list members ${wanted.join(', ')} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An id of a `counter` aggregate that `owner` owns among `members` (by the nodes' own rule). */
export function idOwnedBy(owner: string, members: string[], tag: string): string {
  const ring = new Rendezvous(members);
  for (let i = 0; ; i++) {
    const id = `${tag}-${i}`;
    if (ring.ownerOf(`counter-${id}`) === owner) return id;
  }
}

/** A counter from `metrics`'s text, 0 when absent. */
export function metric(text: string, name: string): number {
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}
