/**
 * The public types of event relays: checkpointed consumers of the global log that publish each
 * event to a broker, at least once.
 */
import type { ProjectionCheckpoints } from '../projections/index.js';

/** `native`: Thalo's own fields. `cloudevents`: CloudEvents 1.0, structured JSON mode. */
export type RelayFormat = 'native' | 'cloudevents';

export interface RelayOptions {
  /** `redis://host:port[/db]` or `nats://host:port`. */
  url: string;
  /** The relay's checkpoint name. Default `relay:<url>`. */
  name?: string;
  format?: RelayFormat;
  /**
   * Where each event goes, with `{category}` (the aggregate), `{event}` (the type) and `{stream}`
   * placeholders. Redis: the stream key, default `{category}_events`. NATS: the subject, default
   * `thalo.events.{category}.{event}`.
   */
  template?: string;
  /** Redis: trim each stream to about this many entries (`MAXLEN ~`). Default 1,000,000. */
  maxLen?: number;
  /** NATS: the JetStream stream that takes the subjects. Default `THALO_EVENTS`. */
  streamName?: string;
  /** NATS: create the stream when it is missing (default), or require that it exists. */
  createStream?: boolean;
  /** CloudEvents `source`. Default `thalo-runtime`. */
  source?: string;
  /** Events per publish batch. Default 1,000. */
  batchSize?: number;
  /** Backoff while the broker is unreachable: starts here and doubles up to `retryMaxMs`. Defaults 100 and 5,000 ms. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * Where the relay's checkpoint is kept instead of the log's own checkpoints (a cluster node's
   * fenced writer under the relay's lease): see `ProjectionOptions.checkpoints`.
   */
  checkpoints?: ProjectionCheckpoints;
  /** Told once per change of state (not once per try): `connected` or `failing` with the error. */
  onStateChange?: (state: RelayState, error?: unknown) => void;
}

export type RelayState = 'connected' | 'failing';
