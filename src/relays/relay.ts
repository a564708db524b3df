/**
 * A relay: a projection whose handler publishes to a broker. The checkpoint moves only after the
 * broker acknowledged the whole batch; while the broker is unreachable the batch is retried with
 * a capped backoff, and the state change is reported once (not once per try).
 */
import { ThaloError } from '../errors.js';
import type { ExecutedEvent } from '../protocol/commands.js';
import type { EventStore } from '../store/index.js';
import { Projection } from '../projections/index.js';
import type { ProjectionInfo } from '../projections/index.js';
import { NatsTarget } from './nats-target.js';
import { RedisTarget } from './redis-target.js';
import type { RelayOptions, RelayState } from './types.js';

/** Where a relay publishes. */
export interface RelayTarget {
  readonly description: string;
  publish(events: ExecutedEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface RelayInfo extends ProjectionInfo {
  target: string;
  state: RelayState | 'starting';
}

export function createTarget(options: RelayOptions): RelayTarget {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new ThaloError('INVALID_ARGUMENT', `relay url ${JSON.stringify(options.url)} is not a URL`, { cause });
  }
  const format = options.format ?? 'native';
  if (format !== 'native' && format !== 'cloudevents') throw new ThaloError('INVALID_ARGUMENT', `relay format must be "native" or "cloudevents", got ${JSON.stringify(format)}`);
  const source = options.source ?? 'thalo-runtime';
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    return new RedisTarget({ url: options.url, template: options.template ?? '{category}_events', maxLen: options.maxLen ?? 1_000_000, format, source });
  }
  if (url.protocol === 'nats:') {
    return new NatsTarget({
      url: options.url,
      template: options.template ?? 'thalo.events.{category}.{event}',
      streamName: options.streamName ?? 'THALO_EVENTS',
      createStream: options.createStream ?? true,
      format,
      source,
    });
  }
  throw new ThaloError('INVALID_ARGUMENT', `relay url ${options.url}: unsupported scheme ${url.protocol} (use redis:// or nats://)`);
}

export class Relay {
  private state: RelayState | 'starting' = 'starting';
  readonly projection: Projection;

  constructor(
    readonly name: string,
    private readonly target: RelayTarget,
    store: EventStore,
    options: RelayOptions,
  ) {
    this.projection = new Projection(name, (events) => this.publish(events), store, {
      batchSize: options.batchSize ?? 1_000,
      retryInitialMs: options.retryInitialMs ?? 100,
      retryMaxMs: options.retryMaxMs ?? 5_000,
      onError: (error) => this.change('failing', error, options),
    });
    this.onStateChange = (state) => this.change(state, undefined, options);
  }

  private onStateChange: (state: RelayState) => void;

  private async publish(events: ExecutedEvent[]): Promise<void> {
    await this.target.publish(events);
    this.onStateChange('connected');
  }

  private change(state: RelayState, error: unknown, options: RelayOptions): void {
    if (this.state === state) return;
    this.state = state;
    options.onStateChange?.(state, error);
  }

  info(): RelayInfo {
    return { ...this.projection.info(), target: this.target.description, state: this.state };
  }

  notify(): void {
    this.projection.notify();
  }

  async stop(): Promise<void> {
    await this.projection.stop();
    await this.target.close();
  }
}
