// A module written by hand in WAT runs through the host: nothing AssemblyScript-specific leaks
// into the ABI (no AssemblyScript strings, runtime or allocator is assumed).
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModule } from '../../src/wasm/index.js';
import type { AggregateModule } from '../../src/wasm/index.js';
import { compileWat } from '../fixtures/build-fixtures.js';
import { emitted, given, rejected } from './scenario.js';

let pinger: AggregateModule;
beforeAll(async () => {
  pinger = await compileModule(await compileWat('pinger'), '/modules/pinger.wasm');
});

describe('a hand-written WAT module', () => {
  it('is described by thalo_describe and named by its file', () => {
    expect(pinger.name).toBe('pinger');
    expect(pinger.description).toEqual({
      name: 'pinger',
      version: '1',
      commands: ['Ping', 'Refuse', 'Garble', 'Stray'],
      events: ['Pinged'],
    });
    expect(pinger.supportsSnapshots).toBe(false);
  });

  it('given two Pinged events, when Ping, then Pinged 2', () => {
    expect(given(pinger).when('Ping', {})).toEqual(emitted(['Pinged', 0]));
    expect(given(pinger, ['Pinged', 0], ['Pinged', 1]).when('Ping', {})).toEqual(emitted(['Pinged', 2]));
  });

  it('handles and applies in turn, as the engine does', () => {
    const state = given(pinger);
    for (let i = 0; i < 5; i++) expect(state.accept('Ping', null).length).toBe(1);
    expect(state.when('Ping', null)).toEqual(emitted(['Pinged', 5]));
  });

  it('rejects with its own code', () => {
    expect(given(pinger).when('Refuse', {})).toMatchObject({ ...rejected('REFUSED'), message: 'pinger refuses every Refuse' });
  });

  it('logs through thalo.log, the one import the ABI allows', () => {
    const lines: [number, string, string][] = [];
    const instance = pinger.instantiate({ log: (level, message, module) => lines.push([level, message, module]) });
    instance.create('p');
    expect(lines).toEqual([[1, 'new state', '/modules/pinger.wasm']]);
  });

  it('refuses snapshots with a clear error, since it exports none', () => {
    const state = given(pinger);
    expect(() => state.instance.snapshot(state.handle)).toThrow(/pinger does not support snapshots/);
    expect(() => state.instance.restore('p', new Uint8Array([0x80]))).toThrow(/pinger does not support snapshots/);
  });
});
