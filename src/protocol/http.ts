/**
 * The HTTP API's vocabulary (docs/http-api.md), in one place for both ends: the header names a
 * command's options travel in, and the bodies the routes answer with. The server's routes are
 * typed with these and the client reads them, so a field renamed on one side fails to compile
 * on the other. Types and constants only: the client imports this file without the server, the
 * engine or Fastify.
 */
import type { ExecuteOptions, ExecuteResult, ExecutedEvent } from './commands.js';

/** The headers of `POST /v1/aggregates/:aggregate/:id/commands/:command`, lowercased as Node gives them. */
export const HEADERS = {
  expectedVersion: 'thalo-expected-version',
  commandId: 'thalo-command-id',
  correlationId: 'thalo-correlation-id',
  causationId: 'thalo-causation-id',
} as const;

/** The body of every error response. The server narrows `Code` to the codes it knows. */
export interface ErrorBody<Code extends string = string> {
  code: Code;
  message: string;
  data?: unknown;
}

/** One item of `POST /v1/commands`'s `{ commands: [...] }`. */
export interface BatchCommandInput extends Omit<ExecuteOptions, 'headers'> {
  aggregate: string;
  id: string;
  command: string;
  payload?: unknown;
  headers?: Record<string, string>;
}

/** One command's answer inside a batch response: the status it would have had on its own. */
export type BatchResult = { status: number; result: ExecuteResult } | { status: number; error: ErrorBody };

/** `POST /v1/commands`. */
export interface BatchResponse {
  results: BatchResult[];
}

/** `GET /v1/aggregates/:aggregate/:id/events`: one page of a stream; `next` is null at its end. */
export interface StreamPage {
  aggregate: string;
  id: string;
  stream: string;
  events: ExecutedEvent[];
  next: number | null;
}

/** `GET /v1/events`: one page of the log; `next` is where to read on, `lastPosition` how far the log went. */
export interface LogPage {
  events: ExecutedEvent[];
  next: number;
  lastPosition: number;
}

/** `GET /v1/streams`: one page of stream names; `next` is the `after` of the next page, null after the last. */
export interface StreamList {
  streams: { stream: string; aggregate: string; id: string; version: number }[];
  next: string | null;
}

/**
 * `GET /v1/aggregates/:aggregate/:id/state?at=`: the aggregate's state after its events up to
 * `seq`, as its module's snapshot decodes (msgpack); `version` is the stream's last seq.
 */
export interface AggregateStateAt {
  aggregate: string;
  id: string;
  stream: string;
  seq: number;
  version: number;
  state: unknown;
  /** Only when the snapshot bytes are not msgpack (a module with a format of its own): why, and the bytes in base64. `state` is then null. */
  undecodable?: { reason: string; base64: string };
}

/** A module as the API shows it (the compiled module and the command set stay inside). */
export interface ModuleInfo {
  name: string;
  file: string;
  /** Grows by one each time any module is (re)loaded: a changed number means a new version serves. */
  revision: number;
  description: { name: string; version: string; commands: string[]; events: string[] };
  supportsSnapshots: boolean;
  /** The SHA-256 (hex) of the module's bytes that serve. */
  sha256?: string;
  /**
   * In a cluster: the revision of the module kept in the store that serves here (the same on
   * every node once they caught up), when and by which node it was published.
   */
  stored?: { revision: number; publishedAt: string; publishedBy: string };
}

/** A module file the runtime refused, and why. */
export interface RefusedModuleFile {
  file: string;
  error: ErrorBody;
}

/** `GET /v1/modules`. */
export interface ModuleList {
  modules: ModuleInfo[];
  refused: RefusedModuleFile[];
}

/** `PUT /v1/modules/:name`. */
export interface PublishedModule {
  module: ModuleInfo;
}

/** One consumer of the log as `GET /v1/projections` lists it. */
export interface ProjectionEntry {
  name: string;
  kind: 'projection' | 'relay' | 'subscriber';
  /**
   * `running`, `paused`, `retrying`, `stopped` (projections and relays), `standby` (a cluster node
   * where another node runs it); `connected`, `disconnected` (subscribers).
   */
  status: string;
  /** The checkpoint: the last position processed (or acked). */
  position: number;
  /** Events in the log after the checkpoint. */
  lag: number;
  /** Per kind: `failures`, `lastError`, `target`, `state`, `connections`, `delivered`; in a cluster `runningHere`, `holder`, `fence`. */
  [field: string]: unknown;
}

/** `GET /v1/projections`. */
export interface ProjectionList {
  projections: ProjectionEntry[];
}

/** `POST /v1/subscribers/:name/ack`. */
export interface AckResult {
  name: string;
  /** The checkpoint now stored: the acked position, or a higher one acked before. */
  position: number;
}

/** `DELETE /v1/subscribers/:name`. */
export interface SubscriberDeleted {
  name: string;
  deleted: true;
}

/** A projection's or relay's lease in `GET /v1/cluster` (supplied by the node that runs the leases). */
export interface LeaseInfo {
  name: string;
  kind: 'projection' | 'relay';
  /** The id of the node that holds the lease, or null while nobody does. */
  holder: string | null;
  /** The fencing token: grows at every hand-over, so a former holder's writes can be refused. */
  fence: number;
  /** Until the lease expires unless renewed, in ms (negative once expired). */
  expiresInMs: number;
}

/** One live node in `GET /v1/cluster`. */
export interface ClusterNodeEntry {
  id: string;
  /** Where the other nodes reach it (`--advertise`). */
  url: string;
  /** Whether it is the node that answered. */
  self: boolean;
  /** How long ago, by the database's clock, it last renewed its lease (ms). */
  leaseAgeMs: number;
  /** When it joined (ISO 8601, the database's clock). */
  startedAt: string;
  /** The fraction of the store's aggregates it owns (over `sample`); null while the store has no streams. */
  share: number | null;
}

/** `GET /v1/cluster`. */
export interface ClusterStatus {
  /** The id of the node that answered. */
  self: string;
  /** Whether that node holds a current lease (while it does not, `nodes` is empty and it takes no commands). */
  live: boolean;
  nodes: ClusterNodeEntry[];
  /** The streams the shares were measured on: all of them when `complete`, else the first ones by name. */
  sample: { streams: number; complete: boolean };
  projections: LeaseInfo[];
  relays: LeaseInfo[];
}
