/**
 * Membership in the store's `cluster_nodes` (src/cluster/membership.ts) on a real PostgreSQL: nodes
 * see each other at their renewals, a node that leaves deletes its row, a lease that could not be
 * renewed takes the node out (and back in), rows of long-dead nodes are forgotten, and a database
 * out of reach at the start fails the join with STORE_UNAVAILABLE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterOptions } from '../../src/cluster/cluster-options.js';
import { Membership } from '../../src/cluster/membership.js';
import type { MembershipView } from '../../src/cluster/types.js';
import { isThaloError } from '../../src/errors.js';
import { PostgresEventStore } from '../../src/store/postgres/index.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres, sql, startProxy } from '../store/postgres-helpers.js';

const LEASE_MS = 600;
const schemas: string[] = [];
const memberships: Membership[] = [];

/** A schema with the store's tables (the migrations make `cluster_nodes`). */
async function migratedSchema(): Promise<string> {
  const schema = freshSchema();
  schemas.push(schema);
  const store = await PostgresEventStore.open({ url: POSTGRES.url, schema });
  await store.close();
  return schema;
}

async function join(schema: string, url = POSTGRES.url): Promise<Membership> {
  const options = clusterOptions({ advertise: 'http://127.0.0.1:1', clusterToken: 't', store: url, leaseMs: LEASE_MS })!;
  const membership = await Membership.join(options, { url, schema });
  memberships.push(membership);
  return membership;
}

function nextView(membership: Membership, match: (view: MembershipView) => boolean, timeoutMs = 5_000): Promise<MembershipView> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching membership change within ${timeoutMs} ms`)), timeoutMs);
    const stop = membership.onChange((view) => {
      if (!match(view)) return;
      clearTimeout(timer);
      stop();
      resolve(view);
    });
  });
}

describe.skipIf(postgresSkipped)('cluster membership in PostgreSQL', () => {
  beforeAll(requirePostgres);
  afterAll(async () => {
    for (const membership of memberships) await membership.leave();
    await dropSchemas(schemas);
  });

  it('lists each node to the other after a renewal, and forgets one that leaves at once', async () => {
    const schema = await migratedSchema();
    const first = await join(schema);
    expect(first.isLive()).toBe(true);
    expect(first.members().map((m) => m.id)).toEqual([first.self.nodeId]);
    const seen = nextView(first, (view) => view.members.length === 2);
    const second = await join(schema);
    expect((await seen).members.map((m) => m.id).sort()).toEqual([first.self.nodeId, second.self.nodeId].sort());
    const member = first.members().find((m) => m.id === second.self.nodeId)!;
    expect(member.url).toBe('http://127.0.0.1:1');
    expect(member.leaseAgeMs).toBeLessThan(LEASE_MS);
    expect(Math.abs(member.startedAt - Date.now())).toBeLessThan(60_000);

    const gone = nextView(first, (view) => view.members.length === 1);
    await second.leave();
    expect(second.isLive()).toBe(false);
    expect(await sql(`SELECT id FROM "${schema}".cluster_nodes WHERE id = $1`, [second.self.nodeId])).toEqual([]);
    // Seen at the first's next renewal, a third of a lease later, not after the lease.
    expect((await gone).members.map((m) => m.id)).toEqual([first.self.nodeId]);
  });

  it('forgets the rows of nodes dead for long, and lists no node whose lease expired', async () => {
    const schema = await migratedSchema();
    await sql(
      `INSERT INTO "${schema}".cluster_nodes (id, url, expires_at) VALUES
         ('long-dead', 'http://x', now() - interval '1 hour'),
         ('just-expired', 'http://y', now() - interval '1 millisecond')`,
    );
    const node = await join(schema);
    expect(node.members().map((m) => m.id)).toEqual([node.self.nodeId]);
    const rows = await sql<{ id: string }>(`SELECT id FROM "${schema}".cluster_nodes ORDER BY id`);
    expect(rows.map((r) => r.id).sort()).toEqual(['just-expired', node.self.nodeId].sort());
  });

  it('goes out of the cluster when it cannot renew in time, and back once it renews', async () => {
    const schema = await migratedSchema();
    const proxy = await startProxy();
    try {
      const node = await join(schema, proxy.url);
      const out = nextView(node, (view) => !view.live);
      await proxy.cut();
      const view = await out;
      expect(view.members).toEqual([]);
      expect(node.isLive()).toBe(false);
      expect(node.members()).toEqual([]);
      expect(node.error()).toContain('cannot be reached');
      const back = nextView(node, (view) => view.live, 10_000);
      await proxy.restore();
      expect((await back).members.map((m) => m.id)).toEqual([node.self.nodeId]);
      expect(node.isLive()).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('fails the join with STORE_UNAVAILABLE when the database cannot be reached', async () => {
    const proxy = await startProxy();
    await proxy.close();
    const error = await join(await migratedSchema(), proxy.url).catch((e: unknown) => e);
    expect(isThaloError(error, 'STORE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${proxy.port}`);
  });
});
