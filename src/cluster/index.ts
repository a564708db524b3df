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
export { ClusterLeases } from './cluster-leases.js';
export type { ClusterLeasesOptions } from './cluster-leases.js';
export { fencedCheckpoints } from './fenced-checkpoints.js';
export { LeaseKeeper } from './lease-keeper.js';
export type { LeaseKeeperOptions, LeaseLoss } from './lease-keeper.js';
export { leaseName } from './lease-info.js';
export { LeaseTable } from './lease-table.js';
export type { AcquiredLease, LeaseRow } from './lease-table.js';
export { LeasedConsumer } from './leased-consumer.js';
export type { LeaseEvents, LeasedConsumerOptions, LeasedInfo } from './leased-consumer.js';
export { ModuleSync } from './module-sync.js';
export type { ModuleInstaller, ModuleSyncOptions } from './module-sync.js';
export { ModuleTable } from './module-table.js';
export type { StoredModule } from './module-table.js';
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
