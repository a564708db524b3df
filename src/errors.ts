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
  | 'INTERNAL';

/** The plain shape an error takes when it crosses a thread or a socket. */
export interface SerializedError {
  code: ThaloErrorCode;
  message: string;
  data?: unknown;
}

/** Base class of every error Thalo raises on purpose. */
export class ThaloError extends Error {
  readonly code: ThaloErrorCode;
  readonly data: unknown;

  constructor(code: ThaloErrorCode, message: string, options: { data?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThaloError';
    this.code = code;
    this.data = options.data;
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/** True when `error` is a Thalo error, and, if `code` is given, one with that code. */
export function isThaloError(error: unknown, code?: ThaloErrorCode): error is ThaloError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { code?: unknown; message?: unknown };
  if (typeof candidate.code !== 'string' || typeof candidate.message !== 'string') return false;
  return code === undefined || candidate.code === code;
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
