/**
 * The cluster as this node sees it.
 *
 *   GET /v1/cluster   the live nodes with their lease age and share of the aggregates, and who
 *                     holds each projection's and relay's lease; 404 CLUSTER_NOT_ENABLED on a
 *                     runtime started without --advertise
 *
 * A node's `share` is the fraction of the store's aggregates (streams) it owns by rendezvous
 * hashing. With many streams it is measured on a sample: the first SHARE_SAMPLE streams in name
 * order. Ownership hashes the name, so name order says nothing of the owner and the sample's
 * share is the whole's, within sampling error (±1% at 10,000 streams). Null while the store has
 * no streams.
 */
import type { FastifyInstance } from 'fastify';
import { Rendezvous } from '../../cluster/index.js';
import type { ClusterStatus } from '../../protocol/http.js';
import { ApiError } from '../api-errors.js';
import type { RouteContext } from './context.js';

/** Streams read to measure the shares: one page of the store's stream list. */
export const SHARE_SAMPLE = 10_000;

export function registerClusterRoutes(app: FastifyInstance, { engine, cluster }: RouteContext): void {
  app.get('/v1/cluster', async (): Promise<ClusterStatus> => {
    if (!cluster) {
      throw new ApiError(
        'CLUSTER_NOT_ENABLED',
        'this runtime runs alone: start each node with --advertise <url>, --cluster-token and a PostgreSQL --store to form a cluster',
      );
    }
    const self = cluster.options.nodeId;
    const live = cluster.membership.isLive();
    const members = cluster.membership.members();
    const streams = await engine.listStreams({ limit: SHARE_SAMPLE });
    const owned = new Map<string, number>();
    const ring = new Rendezvous(members.map((member) => member.id));
    for (const { stream } of streams) {
      const owner = ring.ownerOf(stream)!;
      owned.set(owner, (owned.get(owner) ?? 0) + 1);
    }
    const leases = (await cluster.leases?.()) ?? [];
    return {
      self,
      live,
      nodes: members.map((member) => ({
        id: member.id,
        url: member.url,
        self: member.id === self,
        leaseAgeMs: member.leaseAgeMs,
        startedAt: new Date(member.startedAt).toISOString(),
        share: streams.length === 0 ? null : (owned.get(member.id) ?? 0) / streams.length,
      })),
      sample: { streams: streams.length, complete: streams.length < SHARE_SAMPLE },
      projections: leases.filter((lease) => lease.kind === 'projection'),
      relays: leases.filter((lease) => lease.kind === 'relay'),
    };
  });
}
