/**
 * A client of `thalo-runtime`'s HTTP API (docs/http-api.md) for Node programs; the `thalo` CLI is
 * built on it. It depends on the API's shared vocabulary (src/protocol/), never on the server or
 * the engine.
 */
export { ApiClientError, ThaloClient } from './thalo-client.js';
export { readServerSentEvents } from './server-sent-events.js';
export type { SseMessage } from './server-sent-events.js';
export type { SubscribeOptions, ThaloClientOptions } from './thalo-client.js';
export type {
  AckResult,
  BatchCommandInput,
  BatchResult,
  ClusterNodeEntry,
  ClusterStatus,
  LogPage,
  ModuleInfo,
  ModuleList,
  ProjectionEntry,
  ProjectionList,
  StreamPage,
} from '../protocol/http.js';
