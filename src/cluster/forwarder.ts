/**
 * Forwarding commands to the node that owns their aggregate (rendezvous.ts over the live members),
 * over HTTP with the cluster token, and relaying the owner's answer unchanged.
 *
 * A forwarded request carries `Thalo-Cluster-Token`; the node it lands on checks the token in
 * constant time and always executes it there, so a command is never forwarded twice, even while
 * two nodes disagree about the member list for a moment. Correctness never rests on ownership:
 * every append is checked against the stream head inside its commit, and a stale cached state is
 * rebuilt and the command run again (workers/batch-executor.ts). Ownership only keeps an
 * aggregate's state hot in one node's cache.
 *
 * When the owner cannot be asked, what happens depends on whether it may have received the
 * command:
 * - not delivered (connection refused, no connection within CONNECT_TIMEOUT_MS, the owner
 *   answered 503 `DRAINING` / `NODE_NOT_IN_CLUSTER` before running anything, or the answer came
 *   from another process than the owner, which has left and whose address was taken): run it here;
 * - maybe delivered (the connection broke or the answer did not come after the request went out):
 *   a command with a command id runs here (the store deduplicates it, and answers with the
 *   original result if the owner did commit it); one without gets `FORWARD_OUTCOME_UNKNOWN`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Agent } from 'undici';
import { streamName } from '../aggregate-name.js';
import { ThaloError } from '../errors.js';
import { HEADERS } from '../protocol/http.js';
import type { BatchResult } from '../protocol/http.js';
import type { ClusterOptions } from './cluster-options.js';
import type { Membership } from './membership.js';
import { Rendezvous } from './rendezvous.js';
import type { ClusterMember } from './types.js';

/** The headers of the cluster's own protocol between nodes. */
export const CLUSTER_HEADERS = {
  /** On a forwarded request: the cluster's shared secret. A request with it runs where it lands. */
  token: 'thalo-cluster-token',
  /** On a forwarded request: the id of the node that forwarded it (for logs and tests). */
  forwardedFrom: 'thalo-forwarded-from',
  /**
   * On a forwarded request: the id of the node it is for. Any other runtime that gets it (one that
   * took the address of a node that left) refuses it unrun with `NOT_ADDRESSED_NODE`.
   */
  forwardedTo: 'thalo-forwarded-to',
  /** On every command answer of a cluster node: the id of the node that executed it. */
  node: 'thalo-node',
} as const;

/** A connection to the owner not made within this counts as "not delivered": the command runs here. */
export const CONNECT_TIMEOUT_MS = 1_000;
/**
 * The owner's answer must come within this once the request went out. Well past a command's
 * guest deadline (5 s by default) and its queue; past it, the owner is taken as hung.
 */
export const ANSWER_TIMEOUT_MS = 30_000;
/**
 * An idle kept-alive connection to another node is closed after this: before the server's own
 * keep-alive timeout (72 s, connection-limits.ts), so the client never writes a request into a
 * connection the server is closing at that moment (that request's fate would be unknown).
 */
const IDLE_SOCKET_MS = 30_000;
/** Requests in flight to one node at most; more wait in the client's queue, unsent. */
const MAX_CONNECTIONS_PER_NODE = 128;
/** Error codes of a request that never had a connection: it cannot have reached the owner. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

/** What became of a forwarded command, as `thalo_forwarded_commands_total` counts it. */
export type ForwardOutcome = 'forwarded' | 'ran_locally' | 'outcome_unknown';

/** The owner's answer, relayed to the client as it came. */
export interface RelayedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A single command request as the route has it. */
export interface CommandRequest {
  aggregate: string;
  id: string;
  /** The request's path and query, as sent. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One item of a batch: what the owner's `/v1/commands` takes. */
export interface BatchRequestItem {
  aggregate: string;
  id: string;
  commandId?: string;
}

class ForwardFailure extends Error {
  constructor(
    readonly delivered: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** Headers of the client's request the owner needs to run the command as the client sent it. */
const PASSED_HEADERS = ['authorization', HEADERS.expectedVersion, HEADERS.commandId, HEADERS.correlationId, HEADERS.causationId];
/** Headers of the owner's answer that the client sees. */
const RELAYED_HEADERS = ['content-type', CLUSTER_HEADERS.node, 'www-authenticate'];
/** 503 codes with which the owner says it ran nothing and will not: the command runs here. */
const REFUSED_UNRUN = new Set(['DRAINING', 'NODE_NOT_IN_CLUSTER', 'NOT_ADDRESSED_NODE']);

export class Forwarder {
  private ring = new Rendezvous([]);
  private urls = new Map<string, string>();
  private readonly counts: Record<ForwardOutcome, number> = { forwarded: 0, ran_locally: 0, outcome_unknown: 0 };
  private readonly dispatcher: Agent;
  private readonly tokenDigest: Buffer;

  constructor(
    private readonly self: ClusterOptions,
    private readonly membership: Pick<Membership, 'isLive' | 'members' | 'error' | 'onChange'>,
  ) {
    // Kept-alive connections per node: a forwarded command costs one request on an open
    // connection, not a handshake. undici rather than node:http's Agent: its client side cost
    // 39-77 µs of CPU per request here against 60-95 µs, lower in 5 of 6 interleaved pairs
    // (bench/forwarding.ts); a forwarded command costs its receiving node about what running it would.
    this.dispatcher = new Agent({
      connections: MAX_CONNECTIONS_PER_NODE,
      connect: { timeout: CONNECT_TIMEOUT_MS },
      headersTimeout: ANSWER_TIMEOUT_MS,
      bodyTimeout: ANSWER_TIMEOUT_MS,
      keepAliveTimeout: IDLE_SOCKET_MS,
      keepAliveMaxTimeout: IDLE_SOCKET_MS,
    });
    this.tokenDigest = digest(self.token);
    this.adopt(membership.members());
    membership.onChange((view) => this.adopt(view.members));
  }

  /** Commands forwarded so far, by outcome. */
  outcomes(): Record<ForwardOutcome, number> {
    return { ...this.counts };
  }

  /**
   * Whether a request came from another node. Throws `CLUSTER_TOKEN_INVALID` when it says so
   * (either cluster header) without the right token, so that a client cannot pass for a node.
   */
  isForwarded(headers: Record<string, string | string[] | undefined>): boolean {
    const token = headers[CLUSTER_HEADERS.token];
    if (token === undefined && headers[CLUSTER_HEADERS.forwardedFrom] === undefined) return false;
    if (typeof token !== 'string' || !timingSafeEqual(digest(token), this.tokenDigest)) {
      throw new ThaloError('CLUSTER_TOKEN_INVALID', `a forwarded command needs the cluster's token in ${CLUSTER_HEADERS.token}`);
    }
    return true;
  }

  /** Throws `NODE_NOT_IN_CLUSTER` while this node holds no current lease. */
  requireLive(): void {
    if (this.membership.isLive()) return;
    const why = this.membership.error();
    throw new ThaloError(
      'NODE_NOT_IN_CLUSTER',
      `this node (${this.self.nodeId}) could not renew its cluster lease and takes no commands until it does; send the command to another node${why === undefined ? '' : ` (${why})`}`,
      { data: { node: this.self.nodeId } },
    );
  }

  /**
   * Sends a single command to its owner and resolves with the owner's answer, or with undefined
   * when it must run here: this node owns it, the request was forwarded to us, or the owner could
   * not be asked (see the file's comment).
   */
  async forwardCommand(request: CommandRequest): Promise<RelayedAnswer | undefined> {
    if (this.isForwarded(request.headers)) {
      this.requireLive();
      return undefined;
    }
    this.requireLive();
    const owner = this.remoteOwner(streamName(request.aggregate, request.id));
    if (owner === undefined) return undefined;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const name of PASSED_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const commandId = request.headers[HEADERS.commandId];
    const answer = await this.send(owner, request.path, headers, JSON.stringify(request.body ?? null), typeof commandId === 'string', 1);
    return answer;
  }

  /**
   * Runs a batch across the cluster: the items owned elsewhere go to their owners as sub-batches,
   * in parallel, the rest runs here through `runLocally`, and the results come back in the
   * original order. Resolves with undefined when every item runs here (the caller's usual path).
   * `failed` turns an error into the item's result (the server's statuses).
   */
  async forwardBatch<T extends BatchRequestItem>(
    items: T[],
    headers: Record<string, string | string[] | undefined>,
    runLocally: (indices: number[]) => Promise<BatchResult[]>,
    failed: (error: unknown) => BatchResult,
  ): Promise<BatchResult[] | undefined> {
    if (this.isForwarded(headers)) {
      this.requireLive();
      return undefined;
    }
    this.requireLive();
    const byOwner = new Map<string, number[]>();
    const local: number[] = [];
    items.forEach((item, index) => {
      const owner = this.remoteOwner(streamName(item.aggregate, item.id));
      if (owner === undefined) local.push(index);
      else {
        let group = byOwner.get(owner.id);
        if (!group) byOwner.set(owner.id, (group = []));
        group.push(index);
      }
    });
    if (byOwner.size === 0) return undefined;
    const results = new Array<BatchResult>(items.length);
    const passed: Record<string, string> = { 'content-type': 'application/json' };
    if (typeof headers.authorization === 'string') passed.authorization = headers.authorization;
    const runHere = async (indices: number[]) => {
      if (indices.length === 0) return;
      const answers = await runLocally(indices);
      indices.forEach((index, i) => (results[index] = answers[i]!));
    };
    await Promise.all([
      runHere(local),
      ...[...byOwner].map(async ([ownerId, indices]) => {
        const owner = { id: ownerId, url: this.urls.get(ownerId)! };
        const body = JSON.stringify({ commands: indices.map((index) => items[index]) });
        // Items with a command id may run here when the sub-batch's fate is unknown; each is counted.
        const withIds = indices.filter((index) => items[index]!.commandId !== undefined);
        let answer: RelayedAnswer | undefined;
        try {
          answer = await this.send(owner, '/v1/commands', passed, body, indices.length === withIds.length, indices.length);
        } catch (error) {
          // Unknown fate: the items with a command id run here, the others cannot be answered.
          this.counts.outcome_unknown -= withIds.length;
          this.counts.ran_locally += withIds.length;
          const unknown = new Set(indices.filter((index) => items[index]!.commandId === undefined));
          for (const index of unknown) results[index] = failed(error);
          await runHere(withIds);
          return;
        }
        if (answer === undefined) return runHere(indices);
        const parsed = parseJson(answer.body) as { results?: BatchResult[] } | { code?: string; message?: string };
        if (answer.status === 200 && 'results' in parsed && Array.isArray(parsed.results)) {
          indices.forEach((index, i) => (results[index] = parsed.results![i]!));
        } else {
          // The owner refused the whole sub-batch (a client token it does not share, ...): each item says so.
          const said = parsed as { code?: unknown; message?: unknown };
          const error =
            typeof said.code === 'string' && typeof said.message === 'string'
              ? (parsed as { code: string; message: string })
              : { code: 'INTERNAL', message: `the owner node ${ownerId} answered the forwarded batch with HTTP ${answer.status}` };
          for (const index of indices) results[index] = { status: answer.status, error };
        }
      }),
    ]);
    return results;
  }

  /** Closes the kept-alive connections to the other nodes. */
  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private adopt(members: ClusterMember[]): void {
    this.ring = new Rendezvous(members.map((member) => member.id));
    this.urls = new Map(members.map((member) => [member.id, member.url]));
  }

  /** The owner of `stream` when it is another node; undefined when it is this one. */
  private remoteOwner(stream: string): { id: string; url: string } | undefined {
    const owner = this.ring.ownerOf(stream);
    if (owner === undefined || owner === this.self.nodeId) return undefined;
    const url = this.urls.get(owner);
    return url === undefined ? undefined : { id: owner, url };
  }

  /**
   * POSTs to the owner. Resolves with its answer, or undefined when the commands must run here
   * (not delivered, refused unrun, or maybe delivered while `retrySafe`); counts `commands` by
   * outcome. Throws `FORWARD_OUTCOME_UNKNOWN` when the fate is unknown and not `retrySafe`.
   */
  private async send(
    owner: { id: string; url: string },
    path: string,
    headers: Record<string, string>,
    body: string,
    retrySafe: boolean,
    commands: number,
  ): Promise<RelayedAnswer | undefined> {
    try {
      const answer = await this.post(
        owner.url,
        path,
        {
          ...headers,
          [CLUSTER_HEADERS.token]: this.self.token,
          [CLUSTER_HEADERS.forwardedFrom]: this.self.nodeId,
          [CLUSTER_HEADERS.forwardedTo]: owner.id,
        },
        body,
      );
      // Every answer of the owner names it. Another process at its address (a runtime of this
      // release refuses the request with NOT_ADDRESSED_NODE) cannot have run the command here.
      const fromOwner = answer.headers[CLUSTER_HEADERS.node] === owner.id;
      if (!fromOwner || (answer.status === 503 && REFUSED_UNRUN.has(String((parseJson(answer.body) as { code?: unknown }).code)))) {
        this.counts.ran_locally += commands;
        return undefined;
      }
      this.counts.forwarded += commands;
      return answer;
    } catch (error) {
      const failure = error as ForwardFailure;
      if (!failure.delivered || retrySafe) {
        this.counts.ran_locally += commands;
        return undefined;
      }
      this.counts.outcome_unknown += commands;
      throw new ThaloError(
        'FORWARD_OUTCOME_UNKNOWN',
        `the command was forwarded to its owner node ${owner.id} at ${owner.url}, which did not answer (${failure.message}); it may or may not have been applied (send a command id to retry safely)`,
        { data: { node: owner.id, url: owner.url } },
      );
    }
  }

  /** One POST on a kept-alive connection; rejects with a ForwardFailure that says whether it may have been delivered. */
  private async post(base: string, path: string, headers: Record<string, string>, body: string): Promise<RelayedAnswer> {
    try {
      const answer = await this.dispatcher.request({ origin: base, path, method: 'POST', headers, body });
      const bytes = Buffer.from(await answer.body.arrayBuffer());
      const relayed: Record<string, string> = {};
      for (const name of RELAYED_HEADERS) {
        const value = answer.headers[name];
        if (typeof value === 'string') relayed[name] = value;
      }
      return { status: answer.statusCode, headers: relayed, body: bytes };
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      // No connection was made: the owner cannot have seen the request. Anything else (the socket
      // closed or reset, no answer in time) happened after it may have been sent.
      throw new ForwardFailure(!NOT_CONNECTED.has(code ?? ''), code ?? message ?? String(error));
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return {};
  }
}
