/**
 * What makes a runtime a cluster node: `--advertise <url>` with a PostgreSQL store. The options
 * are read here once, and the node's identity is made here, so that membership, forwarding and
 * the leases of projections and relays all speak of the same node.
 *
 * A node's id is new at every start: a node that restarts joins again as a new member, and the
 * leases its previous life held expire rather than being taken back by a process that never ran
 * them (its projections' in-memory progress died with it).
 */
import { randomUUID } from 'node:crypto';
import { ThaloError } from '../errors.js';

/** A lease expires this long after its last renewal unless `--lease-ms` says otherwise. */
export const DEFAULT_LEASE_MS = 3_000;

export interface ClusterOptions {
  /** This node's id in the store's membership, new at each start. */
  nodeId: string;
  /** The base URL the other nodes reach this node's HTTP API at (`--advertise`), without a trailing slash. */
  url: string;
  /** The shared secret that authenticates forwarded commands between nodes (`--cluster-token`). */
  token: string;
  /** How long a lease (membership, projection, relay) lasts after its last renewal; renewed every third of it. */
  leaseMs: number;
}

export interface ClusterOptionInput {
  advertise?: string;
  clusterToken?: string;
  leaseMs?: number;
  store?: string;
}

/**
 * The cluster settings from the runtime's options, or undefined for a single node. Fails with
 * `INVALID_ARGUMENT` naming the option at fault: `--advertise` without a PostgreSQL store (nodes
 * meet in the store), without a cluster token, or not an http(s) URL.
 */
export function clusterOptions(input: ClusterOptionInput): ClusterOptions | undefined {
  if (input.advertise === undefined || input.advertise === '') {
    if (input.clusterToken !== undefined && input.clusterToken !== '')
      throw new ThaloError('INVALID_ARGUMENT', '--cluster-token (THALO_CLUSTER_TOKEN) needs --advertise: a single node forwards nothing');
    return undefined;
  }
  if (input.store === undefined)
    throw new ThaloError(
      'INVALID_ARGUMENT',
      '--advertise (THALO_ADVERTISE) needs --store postgres://…: the nodes of a cluster meet in a shared PostgreSQL store',
    );
  let url: URL;
  try {
    url = new URL(input.advertise);
  } catch {
    throw new ThaloError('INVALID_ARGUMENT', `--advertise must be the http:// URL other nodes reach this one at, got "${input.advertise}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ThaloError('INVALID_ARGUMENT', `--advertise must be an http:// or https:// URL, got "${input.advertise}"`);
  if (input.clusterToken === undefined || input.clusterToken === '')
    throw new ThaloError(
      'INVALID_ARGUMENT',
      '--advertise needs --cluster-token (THALO_CLUSTER_TOKEN): the secret every node of the cluster shares to forward commands',
    );
  const leaseMs = input.leaseMs ?? DEFAULT_LEASE_MS;
  return { nodeId: randomUUID(), url: url.href.replace(/\/+$/, ''), token: input.clusterToken, leaseMs };
}
