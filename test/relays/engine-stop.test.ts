/**
 * A relay left running when its engine stops closes its broker client with it: the process then
 * ends by itself, as a user's script that calls `engine.stop()` expects. Before, the open
 * connection kept the process alive (`npm run bench` hung after its relay benchmark). Checked in
 * a fresh process, from the sources (through tsx), against the real brokers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { NATS, REDIS, requireService, skipped } from '../services.js';
import type { Service } from '../services.js';

const run = promisify(execFile);
const suffix = `${process.pid}_${Date.now()}`;
/** How long the process may take to end by itself: its start, one command, its relay and its stop. */
const EXIT_WITHIN_MS = 30_000;

/** Runs engine + relay in a fresh process that never stops the relay; resolves with its output once it ended by itself. */
async function stopEngineOnly(relayOptions: Record<string, unknown>): Promise<string> {
  const source = (file: string) => JSON.stringify(pathToFileURL(resolve(file)).href);
  const script = `
    import { mkdtempSync, rmSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    const { Engine } = await import(${source('src/engine/index.ts')});
    const { Consumers } = await import(${source('src/projections/index.ts')});
    const { startRelay } = await import(${source('src/relays/index.ts')});
    const data = mkdtempSync(join(tmpdir(), 'thalo-relay-stop-'));
    const engine = await Engine.start({ modules: ${JSON.stringify(resolve('modules'))}, data, workers: 1 });
    const relay = await startRelay(new Consumers(engine.log), ${JSON.stringify(relayOptions)});
    await engine.execute('counter', 'stop-1', 'Increment', { amount: 1 });
    await relay.projection.waitForPosition(await engine.lastPosition());
    await engine.stop();
    rmSync(data, { recursive: true, force: true });
    process.stdout.write('engine stopped, relay ' + relay.info().status);
  `;
  // A file, not `-e`: the engine's threads do not take `--input-type`.
  const dir = mkdtempSync(join(tmpdir(), 'thalo-relay-stop-script-'));
  const file = join(dir, 'stop-engine-only.mjs');
  writeFileSync(file, script);
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: process.cwd(), timeout: EXIT_WITHIN_MS });
    return stdout;
  } catch (error) {
    const { killed, stdout, stderr } = error as { killed?: boolean; stdout?: string; stderr?: string };
    if (killed)
      throw new Error(`the process did not end within ${EXIT_WITHIN_MS} ms of its start (printed: ${stdout}${stderr})`, { cause: error });
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describeBroker(service: Service, fn: () => void): void {
  describe.skipIf(skipped(service))(`a relay to ${service.name} when its engine stops`, fn);
}

describeBroker(REDIS, () => {
  it('closes its Redis client, and the process ends by itself', async () => {
    await requireService(REDIS);
    const key = `thalo_test_stop_${suffix}`;
    try {
      expect(await stopEngineOnly({ url: 'redis://127.0.0.1:6379', template: key })).toBe('engine stopped, relay stopped');
    } finally {
      const redis = new Redis(REDIS.port, '127.0.0.1');
      await redis.del(key);
      redis.disconnect();
    }
  });
});

describeBroker(NATS, () => {
  it('closes its NATS connection, and the process ends by itself', async () => {
    await requireService(NATS);
    const streamName = `THALO_TEST_STOP_${suffix}`;
    try {
      const options = { url: 'nats://127.0.0.1:4222', streamName, template: `thalo_test_stop_${suffix}.{category}` };
      expect(await stopEngineOnly(options)).toBe('engine stopped, relay stopped');
    } finally {
      const nc = await connect({ servers: `127.0.0.1:${NATS.port}` });
      const manager = await nc.jetstreamManager();
      await manager.streams.delete(streamName).catch(() => undefined);
      await nc.close();
    }
  });
});
