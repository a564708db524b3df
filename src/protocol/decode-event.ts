import { unpack } from 'msgpackr';
import type { ExecutedEvent } from '../engine/types.js';
import type { StoredEvent } from '../store/types.js';

/** A stored event as callers see it: the guest's msgpack data decoded to a JS value. */
export function decodeEvent(event: StoredEvent): ExecutedEvent {
  return {
    position: event.position,
    stream: event.stream,
    seq: event.seq,
    id: event.id,
    type: event.type,
    data: unpack(event.data),
    timestamp: event.timestamp,
    metadata: event.metadata,
  };
}
