/**
 * The forwarder against owners that misbehave on real sockets: one that refuses connections, one
 * that answers 503 DRAINING, another process at the owner's address, and one that reads the
 * request and drops the connection without an answer. The first three never ran the command, so
 * it runs here; after the third the command's fate
 * is unknown, so it runs here only with a command id and otherwise fails FORWARD_OUTCOME_UNKNOWN.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder } from '../../src/cluster/forwarder.js';
import type { ClusterOptions } from '../../src/cluster/cluster-options.js';
import { Rendezvous } from '../../src/cluster/rendezvous.js';
import type { ClusterMember, MembershipView } from '../../src/cluster/types.js';
import { isThaloError } from '../../src/errors.js';
import { freePort } from '../services.js';

const SELF: ClusterOptions = { nodeId: 'node-self', url: 'http://127.0.0.1:1', token: 'secret', leaseMs: 3_000 };
const servers: Server[] = [];
const forwarders: Forwarder[] = [];

afterEach(async () => {
  for (const forwarder of forwarders.splice(0)) await forwarder.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A fixed membership of this node and an owner at `url`. */
function forwarderTo(url: string): Forwarder {
  const members: ClusterMember[] = [
    { id: SELF.nodeId, url: SELF.url, startedAt: 0, leaseAgeMs: 0 },
    { id: 'node-owner', url, startedAt: 0, leaseAgeMs: 0 },
  ];
  const forwarder = new Forwarder(SELF, {
    isLive: () => true,
    members: () => members,
    error: () => undefined,
    onChange: (_listener: (view: MembershipView) => void) => () => undefined,
  });
  forwarders.push(forwarder);
  return forwarder;
}

/** Counter ids the owner owns. */
const ring = new Rendezvous([SELF.nodeId, 'node-owner']);
const ids = Array.from({ length: 200 }, (_, i) => `k${i}`);
const owned = ids.filter((id) => ring.ownerOf(`counter-${id}`) === 'node-owner');
const mine = ids.find((id) => ring.ownerOf(`counter-${id}`) === SELF.nodeId)!;

async function owner(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      requests.push(body);
      handler(request, response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function command(id: string, headers: Record<string, string> = {}) {
  return { aggregate: 'counter', id, path: `/v1/aggregates/counter/${id}/commands/Increment`, headers, body: { amount: 1 } };
}

describe('forwarding to an owner that cannot answer', () => {
  it('relays the answer of an owner that answers, with the cluster token and the client headers', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const target = await owner((request, response) => {
      seen.push(request.headers);
      response.writeHead(409, { 'content-type': 'application/json', 'thalo-node': 'node-owner', 'x-other': 'dropped' });
      response.end('{"code":"WRONG_EXPECTED_VERSION","message":"m"}');
    });
    const forwarder = forwarderTo(target.url);
    const answer = await forwarder.forwardCommand(command(owned[0]!, { 'thalo-expected-version': '3', authorization: 'Bearer t' }));
    expect(answer!.status).toBe(409);
    expect(answer!.headers).toEqual({ 'content-type': 'application/json', 'thalo-node': 'node-owner' });
    expect(JSON.parse(answer!.body.toString())).toEqual({ code: 'WRONG_EXPECTED_VERSION', message: 'm' });
    expect(seen[0]).toMatchObject({
      'thalo-cluster-token': 'secret',
      'thalo-forwarded-from': 'node-self',
      'thalo-forwarded-to': 'node-owner',
      'thalo-expected-version': '3',
      authorization: 'Bearer t',
    });
    expect(JSON.parse(target.requests[0]!)).toEqual({ amount: 1 });
    expect(forwarder.outcomes()).toEqual({ forwarded: 1, ran_locally: 0, outcome_unknown: 0 });
  });

  it('runs the command here when the owner refuses the connection or answers DRAINING', async () => {
    const closed = forwarderTo(`http://127.0.0.1:${await freePort()}`);
    expect(await closed.forwardCommand(command(owned[0]!))).toBeUndefined();
    const draining = await owner((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end('{"code":"DRAINING","message":"shutting down"}');
    });
    const refused = forwarderTo(draining.url);
    expect(await refused.forwardCommand(command(owned[0]!))).toBeUndefined();
    expect(refused.outcomes()).toEqual({ forwarded: 0, ran_locally: 1, outcome_unknown: 0 });
  });

  it("runs the command here when another process answers at the owner's address (the owner left, its address was taken)", async () => {
    const answers = [
      // A node of another cluster: the address check comes first, so it refuses the request unrun.
      { status: 503, node: 'node-other', body: '{"code":"NOT_ADDRESSED_NODE","message":"m"}' },
      // Whatever else answers without the owner's id (another server, a runtime of another release).
      { status: 401, node: 'node-other', body: '{"code":"CLUSTER_TOKEN_INVALID","message":"m"}' },
      { status: 404, node: undefined, body: 'not here' },
    ];
    for (const { status, node, body } of answers) {
      const squatter = await owner((_request, response) => {
        response.writeHead(status, node === undefined ? {} : { 'thalo-node': node });
        response.end(body);
      });
      const forwarder = forwarderTo(squatter.url);
      expect(await forwarder.forwardCommand(command(owned[0]!))).toBeUndefined();
      const ranHere: number[][] = [];
      const items = [
        { aggregate: 'counter', id: owned[0]! },
        { aggregate: 'counter', id: owned[1]! },
      ];
      const results = await forwarder.forwardBatch(
        items,
        {},
        async (indices) => {
          ranHere.push(indices);
          return indices.map(() => ({ status: 200, result: { local: true } as never }));
        },
        () => expect.fail('no item fails'),
      );
      expect(ranHere).toEqual([[0, 1]]);
      expect(results!.map((r) => r.status)).toEqual([200, 200]);
      expect(squatter.requests).toHaveLength(2);
      expect(forwarder.outcomes()).toEqual({ forwarded: 0, ran_locally: 3, outcome_unknown: 0 });
    }
  });

  it('after the connection broke with the request sent: runs it here with a command id, and fails FORWARD_OUTCOME_UNKNOWN without', async () => {
    const dropping = await owner((request) => request.socket.destroy());
    const forwarder = forwarderTo(dropping.url);
    expect(await forwarder.forwardCommand(command(owned[0]!, { 'thalo-command-id': 'c-1' }))).toBeUndefined();
    const error = await forwarder.forwardCommand(command(owned[1]!)).catch((e: unknown) => e);
    expect(isThaloError(error, 'FORWARD_OUTCOME_UNKNOWN')).toBe(true);
    expect((error as Error).message).toContain('it may or may not have been applied (send a command id to retry safely)');
    // Both requests reached the owner.
    expect(dropping.requests).toHaveLength(2);
    expect(forwarder.outcomes()).toEqual({ forwarded: 0, ran_locally: 1, outcome_unknown: 1 });
  });

  it('splits a batch whose sub-batch fate is unknown: the items with a command id run here, the others fail', async () => {
    const dropping = await owner((request) => request.socket.destroy());
    const forwarder = forwarderTo(dropping.url);
    const items = [
      { aggregate: 'counter', id: owned[0]!, commandId: 'a' },
      { aggregate: 'counter', id: mine },
      { aggregate: 'counter', id: owned[1]! },
    ];
    const ranHere: number[][] = [];
    const results = await forwarder.forwardBatch(
      items,
      {},
      async (indices) => {
        ranHere.push(indices);
        return indices.map(() => ({ status: 200, result: { local: true } as never }));
      },
      (error) => ({ status: 502, error: { code: (error as { code: string }).code, message: (error as Error).message } }),
    );
    expect(ranHere).toEqual([[1], [0]]);
    expect(results!.map((r) => r.status)).toEqual([200, 200, 502]);
    expect('error' in results![2]! && results![2].error.code).toBe('FORWARD_OUTCOME_UNKNOWN');
    expect(JSON.parse(dropping.requests[0]!).commands).toEqual([items[0], items[2]]);
    expect(forwarder.outcomes()).toEqual({ forwarded: 0, ran_locally: 1, outcome_unknown: 1 });
  });
});
