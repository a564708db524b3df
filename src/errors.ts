/**
 * Errors shared by every part of Thalo.
 *
 * Every error we raise on purpose is a `ThaloError` with a stable string `code`. Callers check
 * the code, never the class or the message, because errors that cross `postMessage` (worker
 * threads) or HTTP lose their class: send `serializeError(e)` and rebuild with
 * `deserializeError(payload)`.
 *
 * @example
 *   try { await store.append('counter-1', events, { expected: 3 }) }
 *   catch (e) { if (isThaloError(e, 'WRONG_EXPECTED_VERSION')) retry() }
 */

/** Every stable error code Thalo raises. Add a code here before raising it. */
export type ThaloErrorCode =
  // store
  | 'WRONG_EXPECTED_VERSION'
  | 'STORE_LOCKED'
  | 'STORE_CLOSED'
  | 'INVALID_STREAM_NAME'
  | 'INVALID_ARGUMENT'
  | 'INVALID_EVENT'
  | 'STORE_WRITE_FAILED'
  /** A command id already recorded for another stream (data: commandId, stream, recordedStream). */
  | 'COMMAND_ID_REUSED'
  /** A command (an append request) with more events than the limit. */
  | 'TOO_MANY_EVENTS'
  /** An event whose data is over the limit. */
  | 'EVENT_TOO_LARGE'
  /** An event's metadata (ids and headers) over the limit. */
  | 'METADATA_TOO_LARGE'
  // the data directory's file system (or LMDB's map) has no room for the commit; reads go on
  | 'STORE_FULL'
  /** The store's bytes on disk are damaged (a checksum, a missing position, LMDB's own pages); data: position (when known), path. */
  | 'STORE_CORRUPTED'
  /** The store's database cannot be reached or stopped answering (PostgreSQL); data: url (password hidden), and for a write `applied` (false, or 'unknown' when the connection went during the commit). */
  | 'STORE_UNAVAILABLE'
  /**
   * The store was written by a newer release: a PostgreSQL schema version past the ones this code
   * knows (data: schema, version, supported), or an LMDB data directory's format past LMDB_FORMAT
   * (data: path, version, supported).
   */
  | 'STORE_SCHEMA_UNSUPPORTED'
  // wasm modules
  | 'MODULE_INVALID'
  | 'GUEST_TRAP'
  /** A guest trapped after its memory limit refused a growth (`maxGuestMemoryBytes`); its instance is replaced. */
  | 'GUEST_MEMORY_EXCEEDED'
  | 'GUEST_FAULT'
  | 'COMMAND_REJECTED'
  | 'UNKNOWN_COMMAND'
  | 'INVALID_PAYLOAD'
  | 'PAYLOAD_TOO_LARGE'
  | 'BUILD_FAILED'
  // engine
  | 'AGGREGATE_NOT_FOUND'
  | 'INVALID_AGGREGATE_ID'
  | 'COMMAND_TIMEOUT'
  | 'WORKER_FAILED'
  | 'ENGINE_STOPPED'
  /** A state was asked of an aggregate whose module exports no `thalo_snapshot` (GET …/state). */
  | 'SNAPSHOTS_UNSUPPORTED'
  // relays (a relay retries the batch with a backoff after either)
  /** A relay's broker could not be reached, or did not acknowledge a batch in time. */
  | 'RELAY_UNREACHABLE'
  /** A relay's broker answered and refused the batch: a Redis error reply, a JetStream refusal, no JetStream stream for the subjects. */
  | 'RELAY_REJECTED'
  // cluster (src/cluster/)
  /** This node could not renew its cluster lease in time (its PostgreSQL is out of reach): it takes no commands until it renews. */
  | 'NODE_NOT_IN_CLUSTER'
  /** A request marked as forwarded by another node, without the cluster token or with a wrong one. */
  | 'CLUSTER_TOKEN_INVALID'
  /**
   * A forwarded request reached a process that is not the node it was forwarded to (a node that
   * left the cluster and whose address another runtime took): it ran nothing.
   */
  | 'NOT_ADDRESSED_NODE'
  /** A command forwarded to its owner node got no answer after it may have been delivered, and had no command id to run it again safely: it may or may not have been applied. */
  | 'FORWARD_OUTCOME_UNKNOWN'
  /**
   * This node does not hold the lease of a projection or relay (any more): a fenced checkpoint
   * write was refused because another node took over, or a reset was asked of a node standing by.
   */
  | 'LEASE_NOT_HELD'
  | 'INTERNAL';

/** The plain shape an error takes when it crosses a thread or a socket. */
export interface SerializedError {
  code: ThaloErrorCode;
  message: string;
  data?: unknown;
}

/**
 * The brand the constructor puts on every `ThaloError`, which `isThaloError` checks. A shape
 * check (a string `code` and `message`) also took Node's `ENOENT`, lmdb-js's and Fastify's errors
 * for ours. `Symbol.for`, not `Symbol()`, so that an error made by a second copy of this module
 * (the worker's source under tsx beside `dist/`, two installs of the package) is still
 * recognised. It does not survive `postMessage` or HTTP; `deserializeError` brands the rebuilt error.
 */
const THALO_ERROR_BRAND = Symbol.for('thalo.error');

/** Base class of every error Thalo raises on purpose. */
export class ThaloError extends Error {
  readonly code: ThaloErrorCode;
  readonly data: unknown;

  constructor(code: ThaloErrorCode, message: string, options: { data?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThaloError';
    this.code = code;
    this.data = options.data;
    // Not enumerable: it stays out of logs, `toEqual` and spreads.
    Object.defineProperty(this, THALO_ERROR_BRAND, { value: true });
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/**
 * True when `error` was made by the `ThaloError` constructor (here, or rebuilt by
 * `deserializeError` after crossing a thread), and, if `code` is given, has that code. Anything
 * else with a `code` is not ours: Node's `ENOENT`, a driver's error, or the HTTP client's
 * `ApiClientError` (check that one with `instanceof` and its `code`).
 */
export function isThaloError(error: unknown, code?: ThaloErrorCode): error is ThaloError {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { [THALO_ERROR_BRAND]?: unknown })[THALO_ERROR_BRAND] !== true) return false;
  return code === undefined || (error as ThaloError).code === code;
}

/** The plain `{ code, message, data }` of any error; unknown errors become `INTERNAL`. */
export function serializeError(error: unknown): SerializedError {
  if (isThaloError(error)) {
    const out: SerializedError = { code: error.code, message: error.message };
    if (error.data !== undefined) out.data = error.data;
    return out;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message };
}

/** Rebuild a `ThaloError` from its serialized form (the inverse of `serializeError`). */
export function deserializeError(payload: SerializedError): ThaloError {
  return new ThaloError(payload.code, payload.message, payload.data === undefined ? {} : { data: payload.data });
}
