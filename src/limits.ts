/**
 * The size limits every layer enforces, in one place: the engine refuses at its edge, the wasm
 * host refuses a guest's result before copying it, and the store refuses before it writes (for
 * callers of the store's own API). Each is an option (`EngineOptions`, `EventStoreOptions`,
 * `thalo-runtime` flags); these are the defaults.
 *
 * Why limits at all: with none, one command returning three million events took 54 s and 6.7 GB,
 * a 100 MB event was stored and then broke every page of the log that held it, and 20 MB of
 * headers were copied into every event of a command.
 */

/** Events one command (one append request) may add. */
export const DEFAULT_MAX_EVENTS_PER_COMMAND = 1000;

/** Bytes of one event's msgpack data. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/**
 * Bytes of one event's metadata: the correlation, causation and command ids plus every header
 * name and value, as UTF-8.
 */
export const DEFAULT_MAX_METADATA_BYTES = 16 * 1024;

/**
 * Bytes of event data one page of a read holds at most (besides its count limit); a page holds at
 * least one event, so a reader always moves on.
 */
export const DEFAULT_READ_PAGE_BYTES = 4 * 1024 * 1024;

/** The UTF-8 size of an event's metadata, as the limit counts it. */
export function metadataBytes(metadata: {
  correlationId?: string;
  causationId?: string;
  commandId?: string;
  headers?: Record<string, string>;
}): number {
  let size = 0;
  if (metadata.correlationId !== undefined) size += Buffer.byteLength(metadata.correlationId);
  if (metadata.causationId !== undefined) size += Buffer.byteLength(metadata.causationId);
  if (metadata.commandId !== undefined) size += Buffer.byteLength(metadata.commandId);
  const headers = metadata.headers;
  if (headers !== undefined) {
    for (const name in headers) size += Buffer.byteLength(name) + Buffer.byteLength(String(headers[name]));
  }
  return size;
}
