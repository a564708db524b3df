// The guest SDK's msgpack reader and writer, through test/fixtures/msgpack_probe: values packed by
// msgpackr (the host's encoder) are read by the guest's Reader and written again by its Writer,
// and must unpack to the same values; hand-written encodings check every header form the ABI
// says a module must accept; broken input must be reported, never trap.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { RawGuest, bytes } from './raw-guest.js';

// variableMapSize: the shortest map headers, and maps past 65,535 keys (the host writes map16s).
const packr = new Packr({ useRecords: false, variableMapSize: true });
const dir = mkdtempSync(join(tmpdir(), 'thalo-guest-msgpack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let guest: RawGuest;
beforeAll(async () => {
  guest = await RawGuest.load(await buildFixture('msgpack_probe', dir));
});

/** The guest's copy of `input`: its bytes, or the reader's error. */
function copy(input: Uint8Array): { bytes: Uint8Array } | { error: string } {
  const probe = guest.exports.probe_copy as (ptr: number, len: number) => bigint;
  const out = guest.output(probe(guest.input(input), input.length));
  const [ok, value] = unpack(out) as [boolean, unknown];
  // The output is [true, value]: the value's own bytes follow a fixarray header and a true.
  return ok ? { bytes: out.subarray(2) } : { error: value as string };
}

function written(input: Uint8Array): Uint8Array {
  const result = copy(input);
  if ('error' in result) throw new Error(`the guest could not read ${Buffer.from(input).toString('hex')}: ${result.error}`);
  return result.bytes;
}

function skipped(input: Uint8Array): number {
  return (guest.exports.probe_skip as (p: number, l: number) => number)(guest.input(input), input.length);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const mapOf = (n: number) => Object.fromEntries(range(n).map((i) => [`k${i}`, i]));

const INTEGERS = [
  0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1.7e12, 2 ** 53 - 1,
  -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53 - 1),
];
const STRINGS = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(255), 'y'.repeat(256), 'z'.repeat(65535), 'z'.repeat(65536), 'Grüße, 世界 🌍'];

describe('the guest msgpack reader and writer', () => {
  it('round-trip what the host packs: nil, booleans, integers, floats, strings, arrays, maps', () => {
    const values: unknown[] = [
      null, true, false, ...INTEGERS, 0.5, -1.25, 1e300, -Infinity, Number.NaN, ...STRINGS,
      [], range(15), range(16), range(70_000), {}, mapOf(15), mapOf(16), mapOf(70_000),
      { amount: 5, note: 'rent', tags: ['a', 'b'], nested: { deep: [1, { deeper: null }], ok: true }, rate: 0.25 },
    ];
    for (const value of values) expect(unpack(written(packr.pack(value))), JSON.stringify(value)?.slice(0, 60)).toEqual(value);
  });

  it('write integers as msgpackr does, so JS clients get numbers and never BigInts', () => {
    for (const n of INTEGERS) expect(hex(written(packr.pack(n))), String(n)).toBe(hex(packr.pack(n)));
    // Past 2^53 only an int64 is exact; msgpackr decodes it as a BigInt.
    expect(hex(written(bytes(0xd3, 0x00, 0x40, 0, 0, 0, 0, 0, 1)))).toBe('d30040000000000001');
    expect(hex(written(bytes(0xd3, 0xff, 0xc0, 0, 0, 0, 0, 0, 1)))).toBe('d3ffc0000000000001');
  });

  it('write the shortest string, array and map headers', () => {
    const headers = (value: unknown, n: number) => hex(written(packr.pack(value)).subarray(0, n));
    expect(headers('x'.repeat(31), 1)).toBe('bf');
    expect(headers('x'.repeat(32), 2)).toBe('d920');
    expect(headers('y'.repeat(256), 3)).toBe('da0100');
    expect(headers('z'.repeat(65536), 5)).toBe('db00010000');
    expect(headers(range(15), 1)).toBe('9f');
    expect(headers(range(16), 3)).toBe('dc0010');
    expect(headers(range(70_000), 5)).toBe('dd00011170');
    // The host writes every map as a map16; the guest writes the shortest.
    expect(headers(mapOf(15), 1)).toBe('8f');
    expect(headers(mapOf(16), 3)).toBe('de0010');
    expect(headers(mapOf(70_000), 5)).toBe('df00011170');
  });

  it('read every header form, not only the shortest', () => {
    const forms: [Uint8Array, unknown][] = [
      [bytes(0xcc, 5), 5], [bytes(0xcd, 0, 5), 5], [bytes(0xce, 0, 0, 0, 5), 5], [bytes(0xcf, 0, 0, 0, 0, 0, 0, 0, 5), 5],
      [bytes(0xd0, 0xfb), -5], [bytes(0xd1, 0xff, 0xfb), -5], [bytes(0xd2, 0xff, 0xff, 0xff, 0xfb), -5],
      [bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb), -5],
      [bytes(0xca, 0x3f, 0xc0, 0, 0), 1.5],
      [bytes(0xd9, 3, 0x61, 0x62, 0x63), 'abc'], [bytes(0xda, 0, 3, 0x61, 0x62, 0x63), 'abc'], [bytes(0xdb, 0, 0, 0, 3, 0x61, 0x62, 0x63), 'abc'],
      [bytes(0xdc, 0, 1, 7), [7]], [bytes(0xdd, 0, 0, 0, 1, 7), [7]],
      [bytes(0xde, 0, 1, 'k', 7), { k: 7 }], [bytes(0xdf, 0, 0, 0, 1, 'k', 7), { k: 7 }],
    ];
    for (const [input, value] of forms) expect(unpack(written(input)), hex(input)).toEqual(value);
  });

  it('skip values of every type, binaries and extensions included', () => {
    const values: unknown[] = [
      { amount: 5, list: [1, 'two', 3.5, null, true], nested: { deep: mapOf(20) } },
      new Uint8Array(10), new Uint8Array(300), new Uint8Array(70_000), new Date(0), new Date(1e12 + 0.5), ...STRINGS, ...INTEGERS,
    ];
    for (const value of values) {
      const input = packr.pack(value);
      expect(skipped(input), String(value).slice(0, 40)).toBe(input.length);
    }
    for (const ext of [bytes(0xd4, 1, 0), bytes(0xd5, 1, 0, 0), bytes(0xd8, 1, ...new Uint8Array(16)), bytes(0xc7, 2, 1, 0, 0), bytes(0xc8, 0, 2, 1, 0, 0), bytes(0xc9, 0, 0, 0, 2, 1, 0, 0)]) {
      expect(skipped(ext), hex(ext)).toBe(ext.length);
    }
  });

  it('report every truncated value as an error instead of trapping', () => {
    const input = packr.pack({ amount: 300, note: 'x'.repeat(40), list: [1, -200, 70_000, 2.5, 'é', null], ok: false });
    for (let cut = 0; cut < input.length; cut++) {
      expect(copy(input.subarray(0, cut)), `cut at ${cut}`).toEqual({ error: 'truncated msgpack' });
      expect(skipped(input.subarray(0, cut)), `cut at ${cut}`).toBe(-1);
    }
  });

  it('refuse forged lengths and counts, even near 4 GiB, without trapping or spinning', () => {
    for (const forged of [
      bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61), bytes(0xdb, 0x80, 0, 0, 0), bytes(0xda, 0xff, 0xff),
      bytes(0xdd, 0xff, 0xff, 0xff, 0xff, 1), bytes(0xdd, 0x7f, 0xff, 0xff, 0xff), bytes(0xdf, 0xff, 0xff, 0xff, 0xff, 'k', 1), bytes(0xde, 0x00, 0x02, 'k', 1),
    ]) {
      expect(copy(forged), hex(forged)).toEqual({ error: 'truncated msgpack' });
      expect(skipped(forged), hex(forged)).toBe(-1);
    }
    expect(skipped(bytes(0xc6, 0xff, 0xff, 0xff, 0xff))).toBe(-1);
    expect(skipped(bytes(0xc9, 0xff, 0xff, 0xff, 0xff, 1))).toBe(-1);
  });

  it('report what is not msgpack, a uint64 past i64 and trailing bytes', () => {
    expect(skipped(bytes(0xc1))).toBe(-1);
    expect(copy(bytes(0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0))).toEqual({ error: 'integer out of range' });
    expect(copy(bytes(0x01, 0x02))).toEqual({ error: 'trailing bytes' });
  });
});
