/**
 * The PostgreSQL event store (see postgres-store.ts and docs/store.md, "PostgreSQL").
 */
export { PostgresEventStore } from './postgres-store.js';
export type { PostgresEventStoreOptions, StoreHealth } from './postgres-store.js';
export { SCHEMA_VERSION } from './schema.js';
export { DEFAULT_SCHEMA, checkSchemaName } from './schema-name.js';
export { redactUrl } from '../redact-url.js';
