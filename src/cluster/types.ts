/**
 * What the cluster's parts say to each other and to the HTTP API: the members as the store lists
 * them, the view a node has of the cluster, and the leases of projections and relays that the
 * lease holder (src/cluster, the leases side) reports for `GET /v1/cluster`.
 */
import type { LeaseInfo } from '../protocol/http.js';

/** A node as the store's `cluster_nodes` table lists it. */
export interface ClusterMember {
  /** The node's id, new at each start (`ClusterOptions.nodeId`). */
  id: string;
  /** Where the other nodes reach its HTTP API (`--advertise`). */
  url: string;
  /** When the node joined, in ms since the epoch (the database's clock). */
  startedAt: number;
  /** How long ago, by the database's clock, the node last renewed its lease, in ms, when the list was read. */
  leaseAgeMs: number;
}

/** What a node knows of the cluster after its last renewal. */
export interface MembershipView {
  /** Whether this node renewed its lease in time: it serves commands only while it did. */
  live: boolean;
  /** The live members (lease not expired by the database's clock), this node among them while live, sorted by id. */
  members: ClusterMember[];
}

/**
 * A projection's or relay's lease, as `GET /v1/cluster` shows it. A wire type, so it lives with
 * the API's vocabulary (src/protocol/http.ts), which the cluster's folder may import and not the
 * other way round; named here too for the parts of the cluster that report leases.
 */
export type { LeaseInfo };

/** Supplies the leases for `GET /v1/cluster` (given to the API server by the runtime's wiring). */
export type LeaseProvider = () => Promise<LeaseInfo[]>;
