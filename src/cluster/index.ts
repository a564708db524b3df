/**
 * Several runtimes on one PostgreSQL store (docs/cluster.md): membership with leases in the
 * store, ownership of aggregates by rendezvous hashing, and forwarding of commands to their owner.
 */
import type { ClusterOptions } from './cluster-options.js';
import type { Forwarder } from './forwarder.js';
import type { Membership } from './membership.js';
import type { LeaseProvider } from './types.js';

export { DEFAULT_LEASE_MS, clusterOptions } from './cluster-options.js';
export type { ClusterOptionInput, ClusterOptions } from './cluster-options.js';
export { ANSWER_TIMEOUT_MS, CLUSTER_HEADERS, CONNECT_TIMEOUT_MS, Forwarder } from './forwarder.js';
export type { ForwardOutcome, RelayedAnswer } from './forwarder.js';
export { Membership } from './membership.js';
export type { MembershipStore } from './membership.js';
export { Rendezvous, hash32 } from './rendezvous.js';
export type { ClusterMember, LeaseInfo, LeaseProvider, MembershipView } from './types.js';

/** What a cluster node gives its HTTP API: its settings, its membership, its forwarder and, when wired, the leases. */
export interface ClusterNode {
  options: ClusterOptions;
  membership: Membership;
  forwarder: Forwarder;
  /** The projections' and relays' leases for `GET /v1/cluster`; none listed without it. */
  leases?: LeaseProvider;
}
