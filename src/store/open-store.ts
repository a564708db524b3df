/**
 * Which store a runtime uses, and opening it: the embedded LMDB store in a data directory (the
 * default), or PostgreSQL at a `postgres://` URL. The engine's process opens it as its owner (the
 * LMDB writer lock; PostgreSQL's migrations and commit notices), and each worker thread opens its
 * own handle on the same data. Only this file names both kinds.
 *
 * @example
 *   const location = storeLocation({ store: process.env.THALO_STORE, data: './data' });
 *   const store = await openStore(location, { role: 'owner' });
 */
import { resolve } from 'node:path';
import { ThaloError } from '../errors.js';
import type { EventStoreContract } from './contract.js';
import { EventStore } from './event-store.js';
import { PostgresEventStore } from './postgres/postgres-store.js';
import { checkSchemaName, DEFAULT_SCHEMA } from './postgres/schema-name.js';
import { redactUrl } from './redact-url.js';
import type { CommonStoreOptions } from './types.js';

/** Where the events are: what travels to the worker threads so they open the same store. */
export type StoreLocation = { kind: 'lmdb'; path: string } | { kind: 'postgres'; url: string; schema: string };

/** What a store shared by several processes adds: commit notices from all of them, and its health. */
export interface SharedStore {
  /** Call `listener` with the last position after each commit of any process. Returns the unsubscribe function. */
  watchCommits(listener: (position: number) => void): () => void;
  /** Whether the database answers, as last found out. */
  health(): { available: boolean; error?: string };
}

export type OpenedStore = EventStoreContract & Partial<SharedStore>;

/**
 * The location `store` names: a `postgres://` (or `postgresql://`) URL with `schema` (default
 * `thalo`), or, when `store` is absent, the LMDB data directory `data`. Throws `INVALID_ARGUMENT`
 * for anything else, naming `where`.
 */
export function storeLocation({
  store,
  data,
  schema,
  where = 'options.store',
}: {
  store?: string;
  data: string;
  schema?: string;
  where?: string;
}): StoreLocation {
  if (store === undefined || store === '') return { kind: 'lmdb', path: resolve(data) };
  if (typeof store !== 'string' || !/^postgres(ql)?:\/\//.test(store)) {
    throw new ThaloError(
      'INVALID_ARGUMENT',
      `${where} must be a postgres:// URL (leave it out for the embedded LMDB store in the data directory), got ${JSON.stringify(redactUrl(String(store)))}`,
    );
  }
  return { kind: 'postgres', url: store, schema: checkSchemaName(schema ?? DEFAULT_SCHEMA) };
}

/** Says where `location` is, for logs and messages (a URL's password hidden). */
export function describeLocation(location: StoreLocation): string {
  if (location.kind === 'lmdb') return location.path;
  return `${redactUrl(location.url)} (schema ${location.schema})`;
}

/**
 * Opens the store at `location`. The `owner` (the engine's process, once) takes the LMDB lock or
 * runs PostgreSQL's migrations; a `worker` thread opens a handle beside it.
 */
export async function openStore(location: StoreLocation, options: CommonStoreOptions & { role: 'owner' | 'worker' }): Promise<OpenedStore> {
  const { role, ...common } = options;
  // A worker runs one batch at a time and awaits its commit: it commits on its own thread.
  if (location.kind === 'lmdb')
    return EventStore.open({ ...common, path: location.path, lock: role === 'owner', commitOnThread: role === 'worker' });
  return PostgresEventStore.open({
    ...common,
    url: location.url,
    schema: location.schema,
    migrate: role === 'owner',
    // A worker's handle runs one batch at a time: its reads, then its commit.
    connections: role === 'owner' ? 4 : 2,
  });
}
