/**
 * Publishes events to NATS JetStream with the event id as `Nats-Msg-Id`, so JetStream drops a
 * message it already has (within the stream's duplicate window, 2 minutes by default) when a
 * batch is sent again after a crash or an outage.
 */
import { connect, headers, RetentionPolicy, StorageType } from 'nats';
import type { JetStreamClient, NatsConnection } from 'nats';
import { ThaloError } from '../errors.js';
import type { ExecutedEvent } from '../engine/types.js';
import { messageBody, nativeFields, renderTemplate } from './format.js';
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
    await Promise.all(
      events.map((event) => {
        const h = headers();
        if (this.options.format === 'cloudevents') h.set('content-type', 'application/cloudevents+json');
        else for (const [key, value] of Object.entries(nativeFields(event))) if (key !== 'data' && key !== 'metadata') h.set(`Thalo-${key}`, value);
        return js.publish(renderTemplate(this.options.template, event), encoder.encode(messageBody(event, this.options.format, this.options.source)), {
          msgID: event.id,
          headers: h,
          timeout: 5_000,
        });
      }),
    );
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }
}
