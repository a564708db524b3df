// The msgpack the host writes for a command's payload (docs/abi.md, "What a guest receives"):
// integers as msgpack integers in their smallest form whatever their size, floats as float64,
// the smallest headers, `undefined` properties dropped. Byte for byte, then round trips.
import { describe, expect, it } from 'vitest';
import { unpackValue as unpack } from '../../src/json-values.js';
import { PayloadEncoder } from '../../src/wasm/payload-encoder.js';

const encoder = new PayloadEncoder();
const hex = (value: unknown) => Buffer.from(encoder.encode(value)).toString('hex');

describe('PayloadEncoder', () => {
  it('writes every integer as a msgpack integer in its smallest form', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [2 ** 32 - 1, 'ceffffffff'],
      [2 ** 32, 'cf0000000100000000'],
      [1.7e12, 'cf0000018bcfe56800'],
      [2 ** 53 - 1, 'cf001fffffffffffff'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [-(2 ** 31), 'd280000000'],
      [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
      [-(2 ** 53 - 1), 'd3ffe0000000000001'],
    ];
    for (const [n, bytes] of cases) {
      expect(hex(n), String(n)).toBe(bytes);
      expect(unpack(encoder.encode(n)), String(n)).toBe(n);
    }
  });

  it('writes other finite numbers as float64', () => {
    expect(hex(1.5)).toBe('cb3ff8000000000000');
    expect(hex(-0.1)).toBe('cbbfb999999999999a');
    expect(hex(1e-300)).toBe('cb01a56e1fc2f8f359');
  });

  it('drops undefined properties, as JSON and the HTTP API do, and writes the smallest headers', () => {
    expect(hex({ amount: 1, note: undefined })).toBe(`81a6${Buffer.from('amount').toString('hex')}01`);
    expect(hex({ note: undefined })).toBe('80');
    expect(hex([undefined, null, true, false])).toBe('94c0c0c3c2');
    expect(hex(undefined)).toBe('c0');
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i.toString(16)}`, i]));
    expect(hex(sixteen).slice(0, 6)).toBe('de0010');
    expect(hex(Array.from({ length: 16 }, () => 0)).slice(0, 6)).toBe('dc0010');
    expect(hex(Array.from({ length: 70000 }, () => 0)).slice(0, 10)).toBe('dd00011170');
  });

  it('writes UTF-8 strings with the smallest header', () => {
    expect(hex('')).toBe('a0');
    expect(hex('amount')).toBe('a6616d6f756e74');
    expect(hex('ü')).toBe('a2c3bc');
    expect(hex('x'.repeat(31)).slice(0, 2)).toBe('bf');
    expect(hex('x'.repeat(32)).slice(0, 4)).toBe('d920');
    expect(hex('x'.repeat(256)).slice(0, 6)).toBe('da0100');
    expect(hex('é'.repeat(40000)).slice(0, 10)).toBe('db00013880');
  });

  it('round-trips JSON values of every shape, growing its buffer as needed', () => {
    const values = [
      { id: 'ü-1', title: 'Grüße, 世界 🌍', tags: ['a', 'b'], done: false, at: null, n: -12.25 },
      { deep: { deeper: { deepest: [1, [2, [3, { four: 4 }]]] } } },
      { big: 'x'.repeat(100_000), list: Array.from({ length: 5000 }, (_, i) => i * 1000) },
      [],
      {},
      'plain',
    ];
    for (const value of values) expect(unpack(encoder.encode(value))).toEqual(value);
  });

  it('refuses what is not a JSON value, and integers it cannot carry exactly', () => {
    expect(() => encoder.encode({ f: () => 1 })).toThrow('a function is not a JSON value');
    expect(() => encoder.encode(2 ** 53)).toThrow('beyond');
    expect(() => encoder.encode(1e300)).toThrow('beyond');
    expect(() => encoder.encode(Number.NaN)).toThrow('not a finite number');
    expect(() => encoder.encode(5n)).toThrow('a bigint is not a JSON value');
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i++) deep = [deep];
    expect(() => encoder.encode(deep)).toThrow('nests deeper than 2000 levels');
    expect(() => encoder.encode({ title: 'half \ud83d' })).toThrow('lone surrogate');
  });
});
