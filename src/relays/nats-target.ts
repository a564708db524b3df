/**
 * Publishes events to NATS JetStream with the event id as `Nats-Msg-Id`, so JetStream drops a
 * message it already has (within the stream's duplicate window, 2 minutes by default) when a
 * batch is sent again after a crash or an outage.
 */
import { connect, createInbox, headers, RetentionPolicy, StorageType } from 'nats';
import type { Msg, NatsConnection } from 'nats';
import { ThaloError } from '../errors.js';
import type { ExecutedEvent } from '../protocol/commands.js';
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
const decoder = new TextDecoder();

/** The subjects a template can produce: each placeholder becomes a `*` token. */
export function subjectsOf(template: string): string {
  return template.replace(/\{(category|event|stream)\}/g, '*');
}

/** How long a batch may wait for its acknowledgements before it counts as failed (and is sent again). */
const ACK_TIMEOUT_MS = 5_000;

interface PendingAck {
  resolve(): void;
  reject(error: Error): void;
}

export class NatsTarget implements RelayTarget {
  private connection: NatsConnection | undefined;
  private inbox = '';
  private readonly pending = new Map<string, PendingAck>();
  private batches = 0;

  constructor(private readonly options: NatsTargetOptions) {}

  get description(): string {
    return `NATS JetStream at ${this.options.url} (stream ${this.options.streamName})`;
  }

  private async client(): Promise<NatsConnection> {
    if (this.connection) return this.connection;
    const url = new URL(this.options.url);
    // Connects once; afterwards the client reconnects by itself and buffers publishes meanwhile.
    const connection = await connect({
      servers: `${url.hostname}:${url.port || 4222}`,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 2_000,
      noAsyncTraces: true,
    }).catch((error: unknown) => {
      throw new ThaloError(
        'RELAY_UNREACHABLE',
        `cannot reach NATS at ${this.options.url}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    });
    try {
      const manager = await connection.jetstreamManager();
      const { streamName } = this.options;
      try {
        await manager.streams.info(streamName);
      } catch (error) {
        if (!this.options.createStream) {
          throw new ThaloError(
            'INVALID_ARGUMENT',
            `JetStream stream ${streamName} does not exist (create it, or let the relay create it)`,
            { cause: error },
          );
        }
        await manager.streams.add({
          name: streamName,
          subjects: [subjectsOf(this.options.template)],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
        });
      }
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    // JetStream acknowledges a message published with a reply subject by replying there: one
    // subscription on a private inbox takes every acknowledgement. (The client's js.publish does
    // the same through a request per message, which also builds a timer and two Error objects,
    // with their stacks, per message: most of the relay's time.)
    this.inbox = createInbox();
    connection.subscribe(`${this.inbox}.*`, { callback: (error, message) => !error && this.acknowledged(message) });
    this.connection = connection;
    return connection;
  }

  /** An acknowledgement (or a refusal) from JetStream for one message. */
  private acknowledged(message: Msg): void {
    const token = message.subject.slice(this.inbox.length + 1);
    const ack = this.pending.get(token);
    if (!ack) return; // its batch timed out and was given up
    this.pending.delete(token);
    // "No responders": no stream takes the subject (it was deleted, or its subjects changed).
    if (message.data.length === 0 && message.headers?.code === 503) {
      ack.reject(
        new ThaloError('RELAY_REJECTED', `no JetStream stream takes the relay's subjects (was stream ${this.options.streamName} deleted?)`),
      );
      return;
    }
    const reply = JSON.parse(decoder.decode(message.data)) as { stream?: string; error?: { code: number; description: string } };
    if (reply.error)
      ack.reject(new ThaloError('RELAY_REJECTED', `JetStream refused a message: ${reply.error.description} (${reply.error.code})`));
    else ack.resolve();
  }

  async publish(events: ExecutedEvent[]): Promise<void> {
    const connection = await this.client();
    // Sent in order on one connection, so the stream keeps the log's order; acknowledged together.
    // The body carries every field; the only headers are the Nats-Msg-Id, by which JetStream
    // drops a message sent again, and the CloudEvents content type.
    const cloudevents = this.options.format === 'cloudevents';
    const batch = ++this.batches;
    const tokens: string[] = [];
    const acks = events.map(
      (event, i) =>
        new Promise<void>((resolve, reject) => {
          const token = `${batch}_${i}`;
          tokens.push(token);
          this.pending.set(token, { resolve, reject });
          const h = headers();
          h.set('Nats-Msg-Id', event.id);
          if (cloudevents) h.set('content-type', 'application/cloudevents+json');
          connection.publish(
            renderTemplate(this.options.template, event),
            encoder.encode(messageBody(event, this.options.format, this.options.source)),
            { reply: `${this.inbox}.${token}`, headers: h },
          );
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ThaloError(
              'RELAY_UNREACHABLE',
              `JetStream did not acknowledge a batch of ${events.length} events within ${ACK_TIMEOUT_MS} ms`,
            ),
          ),
        ACK_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([Promise.all(acks), timeout]);
    } finally {
      clearTimeout(timer);
      // A failed batch is sent again whole; late acknowledgements of this one are dropped.
      for (const token of tokens) this.pending.delete(token);
    }
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }
}
