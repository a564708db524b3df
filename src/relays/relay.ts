/**
 * A relay: a projection whose handler publishes to a broker. The checkpoint moves only after the
 * broker acknowledged the whole batch; while the broker is unreachable the batch is retried with
 * a capped backoff, and the state change is reported once (not once per try).
 *
 * The broker clients (`ioredis`, `nats`) load only when a relay of their kind is started:
 * importing the package (or the engine) loads neither, so a process without relays never pays
 * for them, and neither client's side effects happen in it.
 */
import { ThaloError } from '../errors.js';
import type { ExecutedEvent } from '../protocol/commands.js';
import type { EventLog } from '../protocol/event-log.js';
import { Projection } from '../projections/index.js';
import type { Consumers, ProjectionInfo } from '../projections/index.js';
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

/**
 * Start a relay among `consumers`: forward every event of their log to a broker (`redis://…` or
 * `nats://…`), at least once, from the relay's checkpoint on. Resolves once the broker's client
 * is loaded, not once it is reached: a relay that cannot reach its broker keeps retrying, and
 * commands are unaffected.
 *
 * @example
 *   const relay = await startRelay(consumers, { url: 'redis://127.0.0.1:6379' });
 */
export async function startRelay(consumers: Consumers, options: RelayOptions): Promise<Relay> {
  const name = options.name ?? `relay:${options.url}`;
  // Refuse a taken name before loading a client, and again once loaded (another start may have
  // taken it meanwhile).
  consumers.checkName(name);
  const target = await createTarget(options);
  try {
    return consumers.add(name, () => new Relay(name, target, consumers.log, options));
  } catch (error) {
    await target.close();
    throw error;
  }
}

/** The target of `options.url`, its broker client loaded on demand. */
export async function createTarget(options: RelayOptions): Promise<RelayTarget> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new ThaloError('INVALID_ARGUMENT', `relay url ${JSON.stringify(options.url)} is not a URL`, { cause });
  }
  const format = options.format ?? 'native';
  if (format !== 'native' && format !== 'cloudevents')
    throw new ThaloError('INVALID_ARGUMENT', `relay format must be "native" or "cloudevents", got ${JSON.stringify(format)}`);
  const source = options.source ?? 'thalo-runtime';
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    const { RedisTarget } = await import('./redis-target.js');
    return new RedisTarget({
      url: options.url,
      template: options.template ?? '{category}_events',
      maxLen: options.maxLen ?? 1_000_000,
      format,
      source,
    });
  }
  if (url.protocol === 'nats:') {
    const { NatsTarget } = await import('./nats-target.js');
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
  readonly kind = 'relay' as const;
  private state: RelayState | 'starting' = 'starting';
  readonly projection: Projection;

  constructor(
    readonly name: string,
    private readonly target: RelayTarget,
    log: EventLog,
    options: RelayOptions,
  ) {
    this.projection = new Projection(name, (events) => this.publish(events), log, {
      batchSize: options.batchSize ?? 1_000,
      retryInitialMs: options.retryInitialMs ?? 100,
      retryMaxMs: options.retryMaxMs ?? 5_000,
      onError: (error) => this.change('failing', error, options),
      ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
    });
    this.onStateChange = (state) => this.change(state, undefined, options);
    // The projection stops by itself when the log closes; the broker's client must go with it,
    // or its open connection keeps the process alive after the engine stopped.
    this.stopOnClose = log.onClose(() => this.stop());
  }

  private readonly stopOnClose: () => void;
  private stopping: Promise<void> | undefined;

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

  /** Republish from `position` + 1 (consumers deduplicate by event id); resolves once the checkpoint is stored. */
  reset(position: number): Promise<void> {
    return this.projection.reset(position);
  }

  /** Stop publishing (the batch in hand finishes and its checkpoint is stored), then close the broker's client. Once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopOnClose();
      await this.projection.stop();
      await this.target.close();
    })();
    return this.stopping;
  }
}
