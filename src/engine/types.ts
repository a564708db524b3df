/**
 * The engine's public types: what `Engine.start` takes and what `engine.execute` returns.
 */
import type { Durability, EventMetadata, ExpectedVersion } from '../store/types.js';

export interface EngineOptions {
  /** Directory holding the aggregate modules (`<aggregate>.wasm`). Default `./modules`. */
  modules?: string;
  /** Data directory of the event store. Default `./data`. */
  data?: string;
  /** Worker threads, one per shard. Default: the number of cores. */
  workers?: number;
  /** Aggregate states cached per worker (LRU). Default 10,000. */
  cacheSize?: number;
  /** Write a snapshot every this many events of a stream, when the module supports it. 0 turns it off. Default 1,000. */
  snapshotEvery?: number;
  /** A command whose guest code runs longer than this fails with `COMMAND_TIMEOUT`. Default 5,000 ms. */
  commandTimeoutMs?: number;
  /** Largest accepted command payload once packed as msgpack, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** See the store's durability modes. Default `durable`. */
  durability?: Durability;
  /** How long command ids are remembered for idempotent retries, in ms. Default 24 h. */
  idempotencyWindowMs?: number;
  /** Events one command may append; more fail the command with `TOO_MANY_EVENTS`. Default 1,000. */
  maxEventsPerCommand?: number;
  /** Bytes of one event's msgpack data; more fail the command with `EVENT_TOO_LARGE`. Default 1 MiB. */
  maxEventBytes?: number;
  /** Bytes of a command's metadata (ids and headers, UTF-8); more fail it with `METADATA_TOO_LARGE`. Default 16 KiB. */
  maxMetadataBytes?: number;
  /** How long a module's start function, `thalo_abi_version` and `thalo_describe` may run when it is loaded; past it the module is refused with `MODULE_INVALID`. Default 2,000 ms. */
  moduleValidationTimeoutMs?: number;
  /** The most bytes one module instance's memory may reach (64 KiB pages); a command that needs more fails with `GUEST_MEMORY_EXCEEDED`. Default 256 MiB. */
  maxGuestMemoryBytes?: number;
  /** Receives the modules' `thalo.log` lines (level 0 debug … 3 error), at most 100 per guest call, each cut at 4 KiB. Default: dropped. */
  onGuestLog?: (level: number, message: string, module: string) => void;
}

export interface ExecuteOptions {
  /** What the command expects of the aggregate's stream; a mismatch fails with `WRONG_EXPECTED_VERSION`. */
  expectedVersion?: ExpectedVersion;
  /** Idempotency key: executing the same command id again returns the original result and appends nothing. */
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  /** Free-form headers stored with every event of the command. */
  headers?: Record<string, string>;
}

/** A stored event with its data decoded from msgpack. */
export interface ExecutedEvent {
  position: number;
  stream: string;
  seq: number;
  id: string;
  type: string;
  data: unknown;
  timestamp: number;
  metadata: EventMetadata;
  /**
   * Only on an event whose stored bytes do not decode as msgpack (written before the runtime
   * checked guest output): why, and the bytes in base64. Its `data` is then null.
   */
  undecodable?: { reason: string; base64: string };
}

export interface ExecuteResult {
  aggregate: string;
  id: string;
  stream: string;
  /** The stream's last seq after the command. */
  version: number;
  events: ExecutedEvent[];
  /** True when the command id had been executed before and this is the original result. */
  duplicate: boolean;
}

/** The data of a `COMMAND_REJECTED` error: the aggregate's own rejection. */
export interface RejectionData {
  aggregate: string;
  id: string;
  command: string;
  code: string;
  message: string;
  data?: unknown;
}
