// What a guest receives, byte for byte, whichever way a command came in: the echo fixture
// (test/fixtures/echo.wat) stores each command's payload bytes as its event's data, so the store
// shows exactly what the host sent. Engine.execute and HTTP send the same bytes; integers are
// msgpack integers at every size; an undefined property is dropped on both paths.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { Consumers } from '../../src/projections/index.js';
import { ApiServer, ModuleDirectory } from '../../src/server/index.js';
import { EventStore } from '../../src/store/index.js';
import { buildFixture } from '../fixtures/build-fixtures.js';

const hex = (text: string) => Buffer.from(text).toString('hex');

/** [payload through Engine.execute, the same payload as a JSON body, the bytes the guest must get] */
const cases: [string, unknown, string][] = [
  ['2^32', { amount: 2 ** 32 }, `81a6${hex('amount')}cf0000000100000000`],
  ['2^53 - 1', { amount: 2 ** 53 - 1 }, `81a6${hex('amount')}cf001fffffffffffff`],
  ['-2^40', { amount: -(2 ** 40) }, `81a6${hex('amount')}d3ffffff0000000000`],
  ['1.7e12 in a list', { amounts: [1, 1.7e12] }, `81a7${hex('amounts')}9201cf0000018bcfe56800`],
  ['a float', { amount: 1.5 }, `81a6${hex('amount')}cb3ff8000000000000`],
  ['an undefined property', { amount: 1, note: undefined }, `81a6${hex('amount')}01`],
];

let modules: string;
let data: string;
let engine: Engine;
let api: ApiServer;
const stored = new Map<string, string>();

beforeAll(async () => {
  modules = mkdtempSync(join(tmpdir(), 'thalo-echo-modules-'));
  data = mkdtempSync(join(tmpdir(), 'thalo-echo-data-'));
  await buildFixture('echo', modules);
  engine = await Engine.start({ modules, data, workers: 1 });
  const logger = pino({ level: 'silent' });
  api = new ApiServer({
    engine,
    consumers: new Consumers(engine.log),
    modules: new ModuleDirectory({ engine, directory: modules, logger }),
    logger,
    maxPayloadBytes: 1 << 20,
  });
  await api.app.ready();
  for (const [name, payload] of cases) {
    await engine.execute('echo', `node ${name}`, 'Echo', payload);
    const response = await api.app.inject({
      method: 'POST',
      url: `/v1/aggregates/echo/${encodeURIComponent(`http ${name}`)}/commands/Echo`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
    expect(response.statusCode, response.body).toBe(200);
  }
  await api.app.close();
  await engine.stop();
  // The raw bytes, as the store holds them.
  const store = EventStore.open({ path: data });
  try {
    for (const [name] of cases) {
      for (const via of ['node', 'http']) {
        const [event] = await store.readStream(`echo-${via} ${name}`);
        stored.set(`${via} ${name}`, Buffer.from(event!.data).toString('hex'));
      }
    }
  } finally {
    await store.close();
  }
});

afterAll(() => {
  for (const dir of [modules, data]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the payload bytes a guest receives', () => {
  for (const [name, , bytes] of cases) {
    it(`${name}: the same bytes through Engine.execute and HTTP, integers as msgpack integers`, () => {
      expect(stored.get(`node ${name}`)).toBe(bytes);
      expect(stored.get(`http ${name}`)).toBe(bytes);
    });
  }
});
