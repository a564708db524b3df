/**
 * Publishes events to Redis Streams: one pipelined `XADD <key> MAXLEN ~ <n> * field value …`
 * per event, a batch per round trip. The batch counts as acknowledged only when every XADD of
 * it succeeded; otherwise it is sent again whole, so a stream may hold a duplicate after a
 * failure (the `id` field identifies it).
 */
import { Redis } from 'ioredis';
import { ThaloError } from '../errors.js';
import { toJson } from '../json-values.js';
import type { ExecutedEvent } from '../protocol/commands.js';
import { cloudEvent, nativeFields, renderTemplate } from './format.js';
import type { RelayFormat } from './types.js';
import type { RelayTarget } from './relay.js';

export interface RedisTargetOptions {
  url: string;
  template: string;
  maxLen: number;
  format: RelayFormat;
  source: string;
}

export class RedisTarget implements RelayTarget {
  private readonly client: Redis;

  constructor(private readonly options: RedisTargetOptions) {
    this.client = new Redis(options.url, {
      lazyConnect: true,
      // Fail fast while disconnected: the relay retries the batch with its own backoff, and
      // ioredis keeps reconnecting in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    });
    // Connection errors surface as failed publishes; without a listener ioredis would print each one.
    this.client.on('error', () => undefined);
  }

  get description(): string {
    return `Redis Streams at ${this.options.url}`;
  }

  async publish(events: ExecutedEvent[]): Promise<void> {
    if (this.client.status === 'wait' || this.client.status === 'end') {
      await this.client.connect().catch((error: unknown) => {
        throw new ThaloError('RELAY_UNREACHABLE', `cannot reach Redis at ${this.options.url}: ${describe(error)}`, { cause: error });
      });
    }
    const pipeline = this.client.pipeline();
    for (const event of events) {
      const fields =
        this.options.format === 'cloudevents'
          ? ['cloudevent', toJson(cloudEvent(event, this.options.source))]
          : Object.entries(nativeFields(event)).flat();
      pipeline.xadd(renderTemplate(this.options.template, event), 'MAXLEN', '~', this.options.maxLen, '*', ...fields);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) {
      const error = failed?.[0];
      // An error reply (WRONGTYPE, OOM, a READONLY replica) is Redis refusing; anything else on a
      // command (the connection closed or not writable, no reply) is Redis not there.
      const code = error?.name === 'ReplyError' ? 'RELAY_REJECTED' : 'RELAY_UNREACHABLE';
      throw new ThaloError(code, `Redis at ${this.options.url} did not take the batch: ${error?.message ?? 'no reply'}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
