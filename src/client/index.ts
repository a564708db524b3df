/**
 * A client of `thalo-runtime`'s HTTP API (docs/http-api.md) for Node programs; the `thalo` CLI is
 * built on it. It depends on the engine's types only, not on its code.
 */
export { ApiClientError, ThaloClient, readServerSentEvents } from './thalo-client.js';
export type {
  AckResult,
  BatchCommandInput,
  BatchResult,
  LogPage,
  ModuleInfo,
  ModuleList,
  ProjectionEntry,
  ProjectionList,
  SseMessage,
  StreamPage,
  SubscribeOptions,
  ThaloClientOptions,
} from './thalo-client.js';
