/**
 * A client of `thalo-runtime`'s HTTP API (docs/http-api.md) for Node programs; the `thalo` CLI is
 * built on it. It depends on the engine's types only, not on its code.
 */
export { ApiClientError, ThaloClient } from './thalo-client.js';
export { readServerSentEvents } from './server-sent-events.js';
export type { SseMessage } from './server-sent-events.js';
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
} from './thalo-client.js';
