/**
 * Checks at the store's public edge. Everything an append needs is checked and normalised here,
 * before the write transaction, so that the code inside the transaction only reads, compares and
 * writes: a request that fails there fails before it wrote anything (see append-transaction.ts).
 */
import { ThaloError } from '../errors.js';
import { validateExpectedVersion } from '../expected-version.js';
import { DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENTS_PER_COMMAND, DEFAULT_MAX_METADATA_BYTES, metadataBytes } from '../limits.js';
import { newEventId } from './event-ids.js';
import { describeNameProblem, validateStreamName } from './stream-name.js';
import type {
  AppendRequest,
  CommonStoreOptions,
  Durability,
  EventMetadata,
  EventStoreOptions,
  ExpectedVersion,
  ListStreamsOptions,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
} from './types.js';

export const MAX_EVENT_TYPE_BYTES = 256;
export const MAX_EVENT_ID_BYTES = 128;
export const MAX_COMMAND_ID_BYTES = 256;
export const MAX_CHECKPOINT_NAME_BYTES = 256;
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** An event ready to store: everything but what the transaction assigns (position, seq, timestamp). */
export interface PreparedEvent {
  id: string;
  type: string;
  data: Uint8Array;
  metadata: EventMetadata;
}

/** An append request that passed every check that does not need the stored state. */
export interface PreparedRequest {
  stream: string;
  events: PreparedEvent[];
  expected: ExpectedVersion;
  commandId: string | undefined;
  snapshot: Snapshot | undefined;
  /** `AppendRequest.afterPrevious` (see `RequestChains`). */
  afterPrevious: boolean;
}

export interface StoreSettings extends CommonStoreSettings {
  path: string;
  lock: boolean;
  commitOnThread: boolean;
}

/** What one append request may hold (src/limits.ts has the defaults and why). */
export interface AppendLimits {
  maxEventsPerAppend: number;
  maxEventBytes: number;
  maxMetadataBytes: number;
}

export function checkStoreOptions(options: EventStoreOptions): StoreSettings {
  const common = checkCommonOptions(options);
  const { path, lock = true, commitOnThread = false } = options;
  if (typeof path !== 'string' || path.length === 0) invalid('options.path must be a non-empty string');
  if (typeof lock !== 'boolean') invalid('options.lock must be a boolean');
  if (typeof commitOnThread !== 'boolean') invalid('options.commitOnThread must be a boolean');
  return { path, lock, commitOnThread, ...common };
}

/** What every store takes whatever keeps its events: durability, the idempotency window and the limits. */
export interface CommonStoreSettings {
  durability: Durability;
  idempotencyWindowMs: number;
  limits: AppendLimits;
}

export function checkCommonOptions(options: CommonStoreOptions): CommonStoreSettings {
  if (typeof options !== 'object' || options === null) invalid('options must be an object');
  const { durability = 'durable', idempotencyWindowMs = DEFAULT_IDEMPOTENCY_WINDOW_MS } = options;
  if (durability !== 'durable' && durability !== 'relaxed')
    invalid(`options.durability must be 'durable' or 'relaxed', got ${String(durability)}`);
  if (typeof idempotencyWindowMs !== 'number' || !(idempotencyWindowMs >= 0) || !Number.isFinite(idempotencyWindowMs)) {
    invalid(`options.idempotencyWindowMs must be a non-negative finite number of ms, got ${String(idempotencyWindowMs)}`);
  }
  const limits: AppendLimits = {
    maxEventsPerAppend: limitOption(options.maxEventsPerAppend, 'maxEventsPerAppend', DEFAULT_MAX_EVENTS_PER_COMMAND),
    maxEventBytes: limitOption(options.maxEventBytes, 'maxEventBytes', DEFAULT_MAX_EVENT_BYTES),
    maxMetadataBytes: limitOption(options.maxMetadataBytes, 'maxMetadataBytes', DEFAULT_MAX_METADATA_BYTES),
  };
  return { durability, idempotencyWindowMs, limits };
}

function limitOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalid(`options.${name} must be an integer >= 1, got ${String(value)}`);
  return value;
}

/** Checks one append request; throws the ThaloError that request fails with. */
export function prepareRequest(request: AppendRequest, limits: AppendLimits): PreparedRequest {
  if (typeof request !== 'object' || request === null) invalid('each append request must be an object');
  validateStreamName(request.stream);
  const events = request.events;
  if (!Array.isArray(events)) invalid(`events for stream "${request.stream}" must be an array`);
  if (events.length > limits.maxEventsPerAppend) {
    throw new ThaloError(
      'TOO_MANY_EVENTS',
      `an append to stream "${request.stream}" holds ${events.length} events; the limit is ${limits.maxEventsPerAppend}`,
      {
        data: { stream: request.stream, count: events.length, limit: limits.maxEventsPerAppend },
      },
    );
  }
  const prepared = new Array<PreparedEvent>(events.length);
  for (let i = 0; i < events.length; i++) prepared[i] = prepareEvent(events[i]!, i, request.stream, limits);
  return {
    stream: request.stream,
    events: prepared,
    expected: validateExpectedVersion(request.expected, 'options.expected'),
    commandId: checkCommandId(request.commandId),
    snapshot: request.snapshot === undefined ? undefined : checkSnapshot(request.snapshot),
    afterPrevious: request.afterPrevious === true,
  };
}

function prepareEvent(event: NewEvent, index: number, stream: string, limits: AppendLimits): PreparedEvent {
  if (typeof event !== 'object' || event === null) invalidEvent(`${eventWhere(index, stream)} must be an object`);
  const typeProblem = eventNameProblem(event.type, 'type', MAX_EVENT_TYPE_BYTES, index, stream);
  if (typeProblem !== undefined) invalidEvent(typeProblem);
  if (!(event.data instanceof Uint8Array))
    invalidEvent(`${eventWhere(index, stream)} (${event.type}): data must be a Uint8Array of msgpack bytes`);
  if (event.data.length > limits.maxEventBytes) {
    throw new ThaloError(
      'EVENT_TOO_LARGE',
      `${eventWhere(index, stream)} (${event.type}) has ${event.data.length} bytes of data; the limit is ${limits.maxEventBytes}`,
      {
        data: { stream, type: event.type, size: event.data.length, limit: limits.maxEventBytes },
      },
    );
  }
  let id = event.id;
  if (id === undefined) {
    id = newEventId();
  } else {
    const idProblem = eventNameProblem(id, 'id', MAX_EVENT_ID_BYTES, index, stream);
    if (idProblem !== undefined) invalidEvent(idProblem);
  }
  const metadata = checkMetadata(event.metadata, index, stream);
  const size = metadataBytes(metadata);
  if (size > limits.maxMetadataBytes) {
    throw new ThaloError(
      'METADATA_TOO_LARGE',
      `${eventWhere(index, stream)}: its metadata (ids and headers) takes ${size} bytes; the limit is ${limits.maxMetadataBytes}`,
      {
        data: { stream, size, limit: limits.maxMetadataBytes },
      },
    );
  }
  return { id, type: event.type, data: event.data, metadata };
}

/**
 * Which event a message is about. Built only when there is something to say: checks run for
 * every event appended, and a string made up front for each would be garbage nearly always.
 */
function eventWhere(index: number, stream: string): string {
  return `event ${index} for stream "${stream}"`;
}

/** `describeNameProblem` for an event's type or id, its label built only for a name that fails. */
function eventNameProblem(name: unknown, field: 'type' | 'id', maxBytes: number, index: number, stream: string): string | undefined {
  if (describeNameProblem(name, field, maxBytes) === undefined) return undefined;
  return describeNameProblem(name, `${eventWhere(index, stream)}: ${field}`, maxBytes);
}

/** A fresh metadata object with only the known fields, so the stored envelope has no surprises. */
function checkMetadata(metadata: EventMetadata | undefined, index: number, stream: string): EventMetadata {
  const out: EventMetadata = {};
  if (metadata === undefined) return out;
  if (typeof metadata !== 'object' || metadata === null) invalidEvent(`${eventWhere(index, stream)}: metadata must be an object`);
  for (const key in metadata) {
    const value = (metadata as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'correlationId' || key === 'causationId' || key === 'commandId') {
      if (typeof value !== 'string') invalidEvent(`${eventWhere(index, stream)}: metadata.${key} must be a string`);
      out[key] = value;
    } else if (key === 'headers') {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        invalidEvent(`${eventWhere(index, stream)}: metadata.headers must be an object of strings`);
      const headers: Record<string, string> = {};
      for (const name in value) {
        const header = (value as Record<string, unknown>)[name];
        if (typeof header !== 'string') invalidEvent(`${eventWhere(index, stream)}: metadata.headers.${name} must be a string`);
        headers[name] = header;
      }
      out.headers = headers;
    } else {
      invalidEvent(
        `${eventWhere(index, stream)}: metadata.${key} is not a metadata field (correlationId, causationId, commandId, headers); put it in headers`,
      );
    }
  }
  return out;
}

function checkCommandId(commandId: string | undefined): string | undefined {
  if (commandId === undefined) return undefined;
  const problem = describeNameProblem(commandId, 'options.commandId', MAX_COMMAND_ID_BYTES);
  if (problem !== undefined) invalid(problem);
  return commandId;
}

export function checkSnapshot(snapshot: Snapshot): Snapshot {
  if (typeof snapshot !== 'object' || snapshot === null) invalid('snapshot must be an object { seq, state }');
  checkCount(snapshot.seq, 'snapshot.seq');
  if (!(snapshot.state instanceof Uint8Array)) invalid('snapshot.state must be a Uint8Array');
  return { seq: snapshot.seq, state: snapshot.state };
}

export function checkCheckpointName(name: string): void {
  const problem = describeNameProblem(name, 'checkpoint name', MAX_CHECKPOINT_NAME_BYTES);
  if (problem !== undefined) invalid(problem);
}

export function checkReadStreamOptions(
  options: ReadStreamOptions,
): Required<Omit<ReadStreamOptions, 'from'>> & { from: number | undefined } {
  if (typeof options !== 'object' || options === null) invalid('read options must be an object');
  const { from, limit, backwards = false, maxBytes } = options;
  if (from !== undefined) checkPosition(from, 'options.from');
  if (limit !== undefined) checkCount(limit, 'options.limit');
  if (typeof backwards !== 'boolean') invalid('options.backwards must be a boolean');
  if (maxBytes !== undefined) checkPosition(maxBytes, 'options.maxBytes');
  return { from, limit: limit ?? Infinity, backwards, maxBytes: maxBytes ?? Infinity };
}

export function checkListStreamsOptions(options: ListStreamsOptions): { prefix: string; after: string | undefined; limit: number } {
  if (typeof options !== 'object' || options === null) invalid('list options must be an object');
  const { prefix = '', after, limit } = options;
  if (typeof prefix !== 'string') invalid(`options.prefix must be a string, got ${String(prefix)}`);
  if (after !== undefined && typeof after !== 'string') invalid(`options.after must be a string, got ${String(after)}`);
  checkCount(limit, 'options.limit');
  return { prefix, after, limit };
}

export function checkReadAllOptions(options: ReadAllOptions): { from: number; limit: number; maxBytes: number } {
  if (typeof options !== 'object' || options === null) invalid('read options must be an object');
  const { from = 1, limit, maxBytes } = options;
  checkPosition(from, 'options.from');
  if (limit !== undefined) checkCount(limit, 'options.limit');
  if (maxBytes !== undefined) checkPosition(maxBytes, 'options.maxBytes');
  return { from, limit: limit ?? Infinity, maxBytes: maxBytes ?? Infinity };
}

/** An integer >= 1. */
export function checkPosition(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    invalid(`${field} must be an integer >= 1, got ${String(value)}`);
}

/** An integer >= 0. */
export function checkCount(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    invalid(`${field} must be an integer >= 0, got ${String(value)}`);
}

function invalid(message: string): never {
  throw new ThaloError('INVALID_ARGUMENT', message);
}

function invalidEvent(message: string): never {
  throw new ThaloError('INVALID_EVENT', message);
}
