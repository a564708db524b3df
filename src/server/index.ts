/**
 * The network face of `thalo-runtime`: the HTTP API (docs/http-api.md) and the watched modules
 * directory. Only this folder chooses HTTP status codes.
 */
export { ApiServer } from './api-server.js';
export type { ApiServerOptions } from './api-server.js';
export { ApiError, errorResponse, statusOf } from './api-errors.js';
export type { ApiErrorCode, ErrorBody, ErrorCode } from './api-errors.js';
export { ModuleDirectory } from './module-directory.js';
export type { ModuleDirectoryOptions, RefusedFile } from './module-directory.js';
export { RuntimeMetrics } from './metrics.js';
export type { LeaseStats } from './metrics.js';
export { DEFAULT_MAX_SUBSCRIBERS, SubscriberRegistry, SUBSCRIBER_CHECKPOINT_PREFIX } from './subscriber-registry.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, defaultMaxConnections } from './connection-limits.js';
export type { SubscriberInfo, SubscriberStatus } from './subscriber-registry.js';
export type { ProjectionView } from './routes/projections.js';
export { HEADERS, MAX_BATCH_COMMANDS } from './command-input.js';
export type { BatchResult } from './routes/commands.js';
export type { ModuleView } from './routes/modules.js';
