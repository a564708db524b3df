/**
 * The broker clients load only when a relay of their kind starts: importing the package root (or
 * the engine) must load neither `ioredis` nor `nats`. Checked in a fresh process, from the
 * sources (through tsx), by the module cache that both CommonJS packages land in.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The broker packages in a fresh process's module cache after it imported `modules` in order. */
async function brokersLoadedBy(...modules: string[]): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    import { pathToFileURL } from 'node:url';
    for (const module of ${JSON.stringify(modules)}) await import(pathToFileURL(module).href);
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const loaded = ['ioredis', 'nats'].filter((name) => cache.some((file) => file.includes('/node_modules/' + name + '/')));
    process.stdout.write(JSON.stringify(loaded));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });
  return JSON.parse(stdout) as string[];
}

describe('broker clients load lazily', () => {
  it('importing the package root or the engine loads neither ioredis nor nats', async () => {
    expect(await brokersLoadedBy('src/index.ts')).toEqual([]);
    expect(await brokersLoadedBy('src/engine/index.ts', 'src/relays/index.ts', 'src/server/index.ts')).toEqual([]);
  });

  it('sees a broker client once a target of its kind is loaded (the check above can fail)', async () => {
    expect(await brokersLoadedBy('src/index.ts', 'src/relays/redis-target.ts')).toEqual(['ioredis']);
    expect(await brokersLoadedBy('src/index.ts', 'src/relays/nats-target.ts')).toEqual(['nats']);
  });
});
