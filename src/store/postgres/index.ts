/**
 * The PostgreSQL event store (see postgres-store.ts and docs/store.md, "PostgreSQL").
 */
export { PostgresEventStore } from './postgres-store.js';
export type { PostgresEventStoreOptions, StoreHealth } from './postgres-store.js';
export { DEFAULT_SCHEMA, SCHEMA_VERSION, checkSchemaName } from './schema.js';
export { redactUrl } from './connection.js';
