/** Shared set-up for engine tests: temporary data directories and engines that clean up after themselves. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import type { EngineOptions } from '../../src/engine/index.js';

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

/** Start an engine on a fresh data directory (or `options.data`), stopped after the test. */
export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  const engine = await Engine.start({ modules: EXAMPLE_MODULES, data: options.data ?? tempDir(), workers: 2, ...options });
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
