/**
 * The engine's public types: what `Engine.start` takes and what `engine.execute` returns.
 */
import type { Durability } from '../store/types.js';

// A command's options and outcome are wire types (src/protocol/commands.ts); the engine's own
// files keep reading them from here.
export type { ExecuteOptions, ExecuteResult, ExecutedEvent, RejectionData } from '../protocol/commands.js';

export interface EngineOptions {
  /** Directory holding the aggregate modules (`<aggregate>.wasm`). Default `./modules`. */
  modules?: string;
  /** Data directory of the embedded LMDB event store. Default `./data`. Not used with `store`. */
  data?: string;
  /**
   * A `postgres://user:password@host:port/database` URL: keep the events in PostgreSQL instead of
   * the LMDB data directory (docs/store.md, "PostgreSQL"). Default: none, the LMDB store.
   */
  store?: string;
  /** With `store`, the PostgreSQL schema that holds the tables; deployments sharing a database use one each. Default `thalo`. */
  schema?: string;
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
