/**
 * How an event looks on a broker: the target name from a template, and the message body in the
 * native or the CloudEvents format.
 */
import { aggregateOf } from '../aggregate-name.js';
import { toJson } from '../json-values.js';
import type { ExecutedEvent } from '../protocol/commands.js';
import type { RelayFormat } from './types.js';

/** Fill `{category}`, `{event}` and `{stream}` in `template`. */
export function renderTemplate(template: string, event: ExecutedEvent): string {
  return template.replace(/\{(category|event|stream)\}/g, (_, key: string) =>
    key === 'category' ? aggregateOf(event.stream) : key === 'event' ? event.type : event.stream,
  );
}

/** The native fields, as strings (Redis stream fields and NATS headers are strings). */
export function nativeFields(event: ExecutedEvent): Record<string, string> {
  return {
    type: event.type,
    id: event.id,
    stream: event.stream,
    seq: String(event.seq),
    position: String(event.position),
    timestamp: new Date(event.timestamp).toISOString(),
    data: toJson(event.data),
    metadata: toJson(event.metadata),
  };
}

/** A CloudEvents 1.0 event in structured JSON mode. */
export function cloudEvent(event: ExecutedEvent, source: string): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.id,
    source,
    type: event.type,
    subject: event.stream,
    time: new Date(event.timestamp).toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
    thalosequence: event.seq,
    thaloposition: event.position,
  };
}

export function messageBody(event: ExecutedEvent, format: RelayFormat, source: string): string {
  return toJson(
    format === 'cloudevents' ? cloudEvent(event, source) : { ...nativeFields(event), data: event.data, metadata: event.metadata },
  );
}
