// Guests that misbehave give typed faults, and the wrapper says whether it can go on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileModule, loadModule } from '../../src/wasm/index.js';
import type { AggregateModule } from '../../src/wasm/index.js';
import { buildFixture, compileWat } from '../fixtures/build-fixtures.js';
import { emitted, given, stored } from './scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'thalo-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runaway: AggregateModule;
let pinger: AggregateModule;
beforeAll(async () => {
  runaway = await loadModule(await buildFixture('runaway', dir));
  pinger = await compileModule(await compileWat('pinger'), 'pinger.wasm');
});

function caught(fn: () => unknown): { code?: string; message?: string; data?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  throw new Error('expected an error');
}

describe('a trapping guest', () => {
  it('gives GUEST_TRAP naming module and command, poisons the instance, and a fresh instance works', () => {
    const state = given(runaway);
    const error = caught(() => state.when('Trap', {}));
    expect(error.code).toBe('GUEST_TRAP');
    expect(error.message).toMatch(/^runaway trapped in thalo_handle \(command Trap\): /);
    expect(error.data).toMatchObject({ module: 'runaway', command: 'Trap', poisoned: true });
    expect(state.instance.poisoned).toBe(true);
    // Every later call on the poisoned instance is refused, with the same code.
    expect(caught(() => state.when('Ok', {}))).toMatchObject({ code: 'GUEST_TRAP', message: expect.stringContaining('must be recreated') });
    expect(caught(() => state.instance.create('again')).code).toBe('GUEST_TRAP');
    expect(given(runaway).when('Ok', {})).toEqual(emitted(['Done', {}]));
  });

  it("turns AssemblyScript's abort into GUEST_TRAP with the guest's message", () => {
    const error = caught(() => given(runaway).when('Abort', {}));
    expect(error.code).toBe('GUEST_TRAP');
    expect(error.message).toContain('runaway gave up');
  });

  it('Loop never returns (the engine uses it to test command deadlines)', async () => {
    const worker = new Worker(
      `import(${JSON.stringify(pathToFileURL(resolve('dist/src/wasm/index.js')).href)}).then(async ({ loadModule }) => {
         const { parentPort, workerData } = await import('node:worker_threads');
         const instance = (await loadModule(workerData)).instantiate();
         parentPort.postMessage('started');
         instance.handle(instance.create('x'), 'Loop', {});
         parentPort.postMessage('returned');
       })`,
      { eval: true, workerData: join(dir, 'runaway.wasm') },
    );
    const messages: string[] = [];
    const started = new Promise((done) => worker.on('message', (m: string) => (messages.push(m), done(m))));
    await started;
    await new Promise((done) => setTimeout(done, 300));
    await worker.terminate();
    expect(messages).toEqual(['started']);
  });
});

describe('malformed output', () => {
  it('a result outside memory gives GUEST_FAULT; the instance stays usable', () => {
    const state = given(pinger);
    const error = caught(() => state.when('Garble', {}));
    expect(error.code).toBe('GUEST_FAULT');
    expect(error.message).toMatch(/^pinger: thalo_handle \(command Garble\) returned bytes .* outside memory/);
    expect(state.instance.poisoned).toBe(false);
    expect(state.when('Ping', {})).toEqual(emitted(['Pinged', 0]));
  });

  it('an event type the description does not list gives GUEST_FAULT', () => {
    const error = caught(() => given(pinger).when('Stray', {}));
    expect(error.code).toBe('GUEST_FAULT');
    expect(error.message).toContain('event type "Stray" is not one of the events thalo_describe lists');
  });

  it('an event the module cannot read gives GUEST_FAULT quoting what the module logged', async () => {
    const counter = await loadModule(join('modules', 'counter.wasm'));
    const state = given(counter);
    const error = caught(() => state.instance.apply(state.handle, stored(['Incremented', { amount: 'many' }])));
    expect(error).toMatchObject({
      code: 'GUEST_FAULT',
      message: 'counter: thalo_apply returned status 4 (the module logged: cannot apply Incremented: amount must be an integer)',
    });
    // The next call starts with a clean slate.
    expect(caught(() => state.instance.apply(999, stored(['Incremented', { amount: 1 }]))).message).toContain('no state for handle 999');
    expect(given(counter).when('Increment', { amount: 1 })).toEqual(emitted(['Incremented', { amount: 1 }]));
  });

  it('a non-zero thalo_apply status gives GUEST_FAULT', () => {
    // pinger reads only fixarray event lists: 16 events take a longer header, and it says no.
    const state = given(pinger);
    const events = stored(...Array.from({ length: 16 }, (_, i): [string, unknown] => ['Pinged', i]));
    const error = caught(() => state.instance.apply(state.handle, events));
    expect(error).toMatchObject({ code: 'GUEST_FAULT', message: 'pinger: thalo_apply returned status 1' });
    expect(state.instance.poisoned).toBe(false);
  });
});
