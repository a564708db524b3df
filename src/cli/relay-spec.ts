/**
 * How `thalo-runtime` reads its `--relay` options. A relay is given as its broker's URL; the
 * options of that one relay ride along as query parameters, which are taken off the URL before it
 * reaches the broker's client:
 *
 *   --relay 'redis://127.0.0.1:6379?template={category}_events&maxLen=100000'
 *   --relay 'nats://127.0.0.1:4222?stream=THALO_EVENTS&format=cloudevents&createStream=false'
 *
 * The `--relay-*` flags set the same options for every relay given; a URL's own parameters win.
 * Each relay keeps its checkpoint under `relay:<the URL as given>`, so changing a relay's options
 * in its URL starts a new relay that delivers the log from the start (`name=` keeps the old one).
 */
import type { RelayFormat, RelayOptions } from '../relays/index.js';

/** Options that apply to every relay unless its URL says otherwise. */
export interface RelayDefaults {
  template?: string;
  format?: RelayFormat;
  streamName?: string;
  maxLen?: number;
}

/** A `--relay` value that cannot be used: the message names the parameter at fault. */
export class RelaySpecError extends Error {
  override name = 'RelaySpecError';
}

const PARAMETERS = ['template', 'format', 'stream', 'maxLen', 'createStream', 'name', 'batchSize'] as const;

function positiveInteger(spec: string, name: string, value: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(value))
    throw new RelaySpecError(`relay ${spec}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** The engine's relay options for one `--relay` value. */
export function parseRelaySpec(spec: string, defaults: RelayDefaults = {}): RelayOptions {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new RelaySpecError(`relay ${JSON.stringify(spec)} is not a URL (use redis://host:port or nats://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:' && url.protocol !== 'nats:') {
    throw new RelaySpecError(`relay ${spec}: unsupported scheme ${url.protocol} (use redis:// or nats://)`);
  }
  const options: RelayOptions = { url: '', name: `relay:${spec}`, ...withoutUndefined(defaults) };
  for (const [key, value] of url.searchParams) {
    switch (key as (typeof PARAMETERS)[number]) {
      case 'template':
        if (value === '') throw new RelaySpecError(`relay ${spec}: template must not be empty`);
        options.template = value;
        break;
      case 'format':
        if (value !== 'native' && value !== 'cloudevents')
          throw new RelaySpecError(`relay ${spec}: format must be native or cloudevents, got ${JSON.stringify(value)}`);
        options.format = value;
        break;
      case 'stream':
        options.streamName = value;
        break;
      case 'maxLen':
        options.maxLen = positiveInteger(spec, key, value);
        break;
      case 'batchSize':
        options.batchSize = positiveInteger(spec, key, value);
        break;
      case 'createStream':
        if (value !== 'true' && value !== 'false')
          throw new RelaySpecError(`relay ${spec}: createStream must be true or false, got ${JSON.stringify(value)}`);
        options.createStream = value === 'true';
        break;
      case 'name':
        options.name = value;
        break;
      default:
        throw new RelaySpecError(`relay ${spec}: unknown parameter ${JSON.stringify(key)} (known: ${PARAMETERS.join(', ')})`);
    }
  }
  const isNats = url.protocol === 'nats:';
  if (isNats && url.searchParams.has('maxLen')) throw new RelaySpecError(`relay ${spec}: maxLen applies to Redis relays only`);
  if (!isNats && (url.searchParams.has('stream') || url.searchParams.has('createStream')))
    throw new RelaySpecError(`relay ${spec}: stream and createStream apply to NATS relays only`);
  url.search = '';
  options.url = url.toString().replace(/\/$/, '');
  return options;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
