/**
 * Checks what callers hand the engine, at the public edge, with messages that name the field.
 */
import { resolve } from 'node:path';
import { ThaloError } from '../errors.js';
import { validateExpectedVersion } from '../expected-version.js';
import { DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENTS_PER_COMMAND, DEFAULT_MAX_METADATA_BYTES, metadataBytes } from '../limits.js';
import { DEFAULT_MAX_GUEST_MEMORY_BYTES, DEFAULT_VALIDATION_TIMEOUT_MS } from '../wasm/index.js';
import { storeLocation } from '../store/index.js';
import type { StoreLocation } from '../store/index.js';
import { checkSchemaName } from '../store/postgres/schema-name.js';
import type { EngineOptions, ExecuteOptions } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function invalid(message: string): ThaloError {
  return new ThaloError('INVALID_ARGUMENT', message);
}

function integer(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`options.${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The engine's settings: every option with its default, and the store's location in place of `data`, `store` and `schema`. */
export type EngineSettings = Required<Omit<EngineOptions, 'onGuestLog' | 'store' | 'schema'>> & { location: StoreLocation };

export function checkEngineOptions(options: EngineOptions, cores: number): EngineSettings {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  const durability = options.durability ?? 'durable';
  if (durability !== 'durable' && durability !== 'relaxed')
    throw invalid(`options.durability must be "durable" or "relaxed", got ${JSON.stringify(durability)}`);
  if (options.schema !== undefined) checkSchemaName(options.schema);
  for (const name of ['modules', 'data'] as const) {
    if (options[name] !== undefined && (typeof options[name] !== 'string' || options[name] === ''))
      throw invalid(`options.${name} must be a non-empty path`);
  }
  return {
    modules: resolve(options.modules ?? 'modules'),
    data: resolve(options.data ?? 'data'),
    location: storeLocation({ store: options.store, data: options.data ?? 'data', schema: options.schema }),
    workers: integer(options.workers, 'workers', cores, 1),
    cacheSize: integer(options.cacheSize, 'cacheSize', 10_000, 1),
    snapshotEvery: integer(options.snapshotEvery, 'snapshotEvery', 1_000, 0),
    commandTimeoutMs: integer(options.commandTimeoutMs, 'commandTimeoutMs', 5_000, 1),
    maxPayloadBytes: integer(options.maxPayloadBytes, 'maxPayloadBytes', 1024 * 1024, 1),
    durability,
    idempotencyWindowMs: integer(options.idempotencyWindowMs, 'idempotencyWindowMs', DAY_MS, 1),
    maxEventsPerCommand: integer(options.maxEventsPerCommand, 'maxEventsPerCommand', DEFAULT_MAX_EVENTS_PER_COMMAND, 1),
    maxEventBytes: integer(options.maxEventBytes, 'maxEventBytes', DEFAULT_MAX_EVENT_BYTES, 1),
    maxMetadataBytes: integer(options.maxMetadataBytes, 'maxMetadataBytes', DEFAULT_MAX_METADATA_BYTES, 1),
    moduleValidationTimeoutMs: integer(options.moduleValidationTimeoutMs, 'moduleValidationTimeoutMs', DEFAULT_VALIDATION_TIMEOUT_MS, 1),
    // One 64 KiB page at least; wasm32 memories stop at 4 GiB.
    maxGuestMemoryBytes: Math.min(
      integer(options.maxGuestMemoryBytes, 'maxGuestMemoryBytes', DEFAULT_MAX_GUEST_MEMORY_BYTES, 65_536),
      4 * 1024 ** 3,
    ),
  };
}

function optionalString(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.length > 256)) {
    throw invalid(`options.${name} must be a non-empty string of at most 256 characters`);
  }
}

/** Checks `options` and that the metadata they give each event stays within `maxMetadataBytes`. */
export function checkExecuteOptions(options: ExecuteOptions, maxMetadataBytes: number): void {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  validateExpectedVersion(options.expectedVersion, 'options.expectedVersion');
  optionalString(options.commandId, 'commandId');
  optionalString(options.correlationId, 'correlationId');
  optionalString(options.causationId, 'causationId');
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers))
      throw invalid('options.headers must be an object of strings');
    for (const [key, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') throw invalid(`options.headers.${key} must be a string`);
    }
  }
  // Checked here, before the command travels: the metadata is copied into each of its events.
  const size = metadataBytes(options);
  if (size > maxMetadataBytes) {
    throw new ThaloError(
      'METADATA_TOO_LARGE',
      `the command's metadata (command, correlation and causation ids, headers) takes ${size} bytes; the limit is ${maxMetadataBytes}`,
      {
        data: { size, limit: maxMetadataBytes },
      },
    );
  }
}
