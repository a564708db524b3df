import { unpackValue } from '../json-values.js';
import type { ExecutedEvent } from './commands.js';
import type { StoredEvent } from '../store/types.js';

/**
 * A stored event as callers see it: the guest's msgpack data decoded to a JS value. Never throws:
 * bytes that do not decode (stored before the host checked guest output, src/json-values.ts) read
 * as `data: null` with `undecodable` saying why and holding the bytes, so one bad event can no
 * longer make a stream, a page of the log or a subscription unreadable.
 */
export function decodeEvent(event: StoredEvent): ExecutedEvent {
  let data: unknown;
  try {
    data = unpackValue(event.data);
  } catch (error) {
    const decoded = executedEvent(event, null);
    decoded.undecodable = {
      reason: error instanceof Error ? error.message : String(error),
      base64: Buffer.from(event.data).toString('base64'),
    };
    return decoded;
  }
  return executedEvent(event, data);
}

/** A stored event with `data` already decoded (the worker decodes a guest's events before it commits them). */
export function executedEvent(event: StoredEvent, data: unknown): ExecutedEvent {
  return {
    position: event.position,
    stream: event.stream,
    seq: event.seq,
    id: event.id,
    type: event.type,
    data,
    timestamp: event.timestamp,
    metadata: event.metadata,
  };
}
