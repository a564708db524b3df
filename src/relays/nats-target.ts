/**
 * Publishes events to NATS JetStream with the event id as `Nats-Msg-Id`, so JetStream drops a
 * message it already has (within the stream's duplicate window, 2 minutes by default) when a
 * batch is sent again after a crash or an outage.
 */
import { connect, headers, RetentionPolicy, StorageType } from 'nats';
import type { JetStreamClient, NatsConnection } from 'nats';
import { ThaloError } from '../errors.js';
import type { ExecutedEvent } from '../engine/types.js';
import { messageBody, renderTemplate } from './format.js';
import type { RelayFormat } from './types.js';
import type { RelayTarget } from './relay.js';

export interface NatsTargetOptions {
  url: string;
  template: string;
  streamName: string;
  createStream: boolean;
  format: RelayFormat;
  source: string;
}

const encoder = new TextEncoder();

/** The subjects a template can produce: each placeholder becomes a `*` token. */
export function subjectsOf(template: string): string {
  return template.replace(/\{(category|event|stream)\}/g, '*');
}

export class NatsTarget implements RelayTarget {
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;

  constructor(private readonly options: NatsTargetOptions) {}

  get description(): string {
    return `NATS JetStream at ${this.options.url} (stream ${this.options.streamName})`;
  }

  private async client(): Promise<JetStreamClient> {
    if (this.js) return this.js;
    const url = new URL(this.options.url);
    // Connects once; afterwards the client reconnects by itself and publishes wait for it.
    this.connection ??= await connect({ servers: `${url.hostname}:${url.port || 4222}`, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 2_000 });
    const manager = await this.connection.jetstreamManager();
    const { streamName } = this.options;
    try {
      await manager.streams.info(streamName);
    } catch (error) {
      if (!this.options.createStream) {
        throw new ThaloError('INVALID_ARGUMENT', `JetStream stream ${streamName} does not exist (create it, or let the relay create it)`, { cause: error });
      }
      await manager.streams.add({ name: streamName, subjects: [subjectsOf(this.options.template)], storage: StorageType.File, retention: RetentionPolicy.Limits });
    }
    this.js = this.connection.jetstream();
    return this.js;
  }

  async publish(events: ExecutedEvent[]): Promise<void> {
    const js = await this.client();
    // Sent in order on one connection, so the stream keeps the log's order; acknowledged together.
    // The body carries every field; the only header is the Nats-Msg-Id (and the CloudEvents
    // content type), since headers cost more per message than the body does.
    const cloudevents = this.options.format === 'cloudevents';
    // The client builds an Error per request up front (to report a timeout with a stack); stack
    // capture was a fifth of the relay's time. The publishes of a batch need no stack.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let acks: Promise<unknown>[];
    try {
      acks = events.map((event) => {
        const options: Parameters<JetStreamClient['publish']>[2] = { msgID: event.id, timeout: 5_000 };
        if (cloudevents) {
          const h = headers();
          h.set('content-type', 'application/cloudevents+json');
          options.headers = h;
        }
        return js.publish(renderTemplate(this.options.template, event), encoder.encode(messageBody(event, this.options.format, this.options.source)), options);
      });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    await Promise.all(acks);
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }
}
