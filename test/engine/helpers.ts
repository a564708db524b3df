/** Shared set-up for engine tests: temporary data directories and engines that clean up after themselves. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import type { EngineOptions } from '../../src/engine/index.js';
import { EventStore } from '../../src/store/index.js';
import type { EventStoreContract } from '../../src/store/index.js';
import { PostgresEventStore } from '../../src/store/postgres/index.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres } from '../store/postgres-helpers.js';

/** The example modules, built by `npm install` (the prepare script). */
export const EXAMPLE_MODULES = resolve('modules');

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export function tempDir(prefix = 'thalo-engine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Start an engine on a fresh data directory (or `options.data`, or `options.store`), stopped after the test. */
export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  const place = options.store === undefined ? { data: options.data ?? tempDir() } : {};
  const engine = await Engine.start({ modules: EXAMPLE_MODULES, ...place, workers: 2, ...options });
  cleanups.push(() => engine.stop());
  return engine;
}

/** Settle a promise into `{ ok, value | error }` so tests can look at rejections by code. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string; data?: unknown } }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: error as { code: string; message: string; data?: unknown } };
  }
}

/**
 * A store the engine tests run on: where a fresh one is (`place`, the options that point an
 * engine at it), and a handle of the test's own on that data once the engine stopped (`open`).
 */
export interface Backend {
  name: string;
  /** Fails, naming what is missing, when the store's service cannot be reached. */
  ready(): Promise<void>;
  place(): Pick<EngineOptions, 'data' | 'store' | 'schema'>;
  open(place: Pick<EngineOptions, 'data' | 'store' | 'schema'>): Promise<EventStoreContract>;
}

const LMDB: Backend = {
  name: 'LMDB',
  ready: async () => undefined,
  place: () => ({ data: tempDir() }),
  open: async (place) => EventStore.open({ path: place.data! }),
};

const POSTGRESQL: Backend = {
  name: 'PostgreSQL',
  ready: requirePostgres,
  place: () => {
    const schema = freshSchema();
    cleanups.push(() => dropSchemas([schema]));
    return { store: POSTGRES.url, schema };
  },
  open: (place) => PostgresEventStore.open({ url: place.store!, schema: place.schema! }),
};

/** Every store the engine runs on: LMDB, and PostgreSQL unless THALO_SKIP_POSTGRES=1. */
export const BACKENDS: Backend[] = postgresSkipped ? [LMDB] : [LMDB, POSTGRESQL];
