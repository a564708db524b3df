/**
 * Thalo for Node: the package root. Names exactly what the package exports.
 */
export { ThaloError, isThaloError, serializeError, deserializeError } from './errors.js';
export type { ThaloErrorCode, SerializedError } from './errors.js';
export { Engine, streamOf } from './engine/index.js';
export type {
  CommitUse,
  EngineOptions,
  ExecuteOptions,
  ExecuteResult,
  ExecutedEvent,
  LoadedModule,
  RefusedModule,
  RejectionData,
} from './engine/index.js';
export { Consumers, Projection } from './projections/index.js';
export type {
  Consumer,
  ProjectionContext,
  ProjectionDefinition,
  ProjectionFilter,
  ProjectionHandler,
  ProjectionInfo,
  ProjectionOptions,
  ProjectionStatus,
} from './projections/index.js';
export { Relay, startRelay } from './relays/index.js';
export type { RelayFormat, RelayInfo, RelayOptions, RelayState } from './relays/index.js';
export type { EventLog } from './protocol/event-log.js';
export { EventStore, validateStreamName } from './store/index.js';
export { PostgresEventStore } from './store/postgres/index.js';
export type { PostgresEventStoreOptions } from './store/postgres/index.js';
export type {
  Awaitable,
  AppendOptions,
  AppendRequest,
  AppendResult,
  EventMetadata,
  EventStoreContract,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
} from './store/index.js';
export { ABI_VERSION, AggregateModule, AggregateInstance, loadModule, compileModule } from './wasm/index.js';
export type { GuestEvent, HandleOutcome, ModuleDescription } from './wasm/index.js';
export { ApiClientError, ThaloClient } from './client/index.js';
export type {
  AckResult,
  BatchCommandInput,
  BatchResult,
  LogPage,
  ModuleInfo,
  ModuleList,
  ProjectionEntry,
  ProjectionList,
  StreamPage,
  SubscribeOptions,
  ThaloClientOptions,
} from './client/index.js';
