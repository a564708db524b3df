/**
 * The event store: what every store promises (`EventStoreContract`), and `EventStore`, the
 * append-only event log on LMDB shared by the threads of one process. See docs/store.md.
 */
export type { EventStoreContract } from './contract.js';
export { EventStore } from './event-store.js';
export { describeNameProblem, validateStreamName, MAX_STREAM_NAME_BYTES } from './stream-name.js';
export { DEFAULT_IDEMPOTENCY_WINDOW_MS, MAX_EVENT_TYPE_BYTES, MAX_EVENT_ID_BYTES, MAX_COMMAND_ID_BYTES } from './validation.js';
export type {
  AppendOptions,
  AppendRequest,
  AppendResult,
  BatchAppendOutcome,
  CheckpointEntry,
  Durability,
  EventMetadata,
  EventStoreOptions,
  ListStreamsOptions,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StoredEvent,
  StreamEntry,
} from './types.js';
export type { Awaitable } from './contract.js';
export { storeLocation, openStore, describeLocation } from './open-store.js';
export type { StoreLocation, SharedStore, OpenedStore } from './open-store.js';
