/**
 * The check of a guest's msgpack output against the value rule (src/json-values.ts): every kind
 * it lets through, every kind it refuses, and the path it names.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { checkValue } from '../../src/wasm/msgpack-check.js';

const check = (bytes: Uint8Array | number[]) => {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return checkValue(data, 0, data.length, 'data');
};
const refusal = (bytes: Uint8Array | number[]) => {
  try {
    check(bytes);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('checkValue', () => {
  it('accepts JSON values in any msgpack width, and returns the offset after the value', () => {
    const value = { a: [1, -1, 300, -70_000, 2 ** 40, -(2 ** 40), 1.5, 'é', true, false, null], b: { c: 'x'.repeat(300) } };
    const bytes = pack(value);
    expect(check(bytes)).toBe(bytes.length);
    // uint64 and int64 holding small values, float32, map16, array16, str8/16, int keys
    expect(check([0xcf, 0, 0, 0, 0, 0, 0, 0, 5])).toBe(9);
    expect(check([0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 1])).toBe(9);
    expect(check([0xca, 0x3f, 0xc0, 0, 0])).toBe(5);
    expect(check([0xde, 0, 1, 0x01, 0xc0])).toBe(5);
    expect(check([0xdc, 0, 2, 0xc2, 0xc3])).toBe(5);
    expect(check([0xd9, 2, 0x68, 0x69])).toBe(4);
    // Two values in a row: the check stops after the first.
    expect(check([0x01, 0x02])).toBe(1);
  });

  it('accepts ±(2^53 - 1) and refuses one past it, in both directions', () => {
    expect(refusal([0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).toBe('accepted');
    expect(refusal([0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0])).toBe(
      'data holds the integer 9007199254740992, beyond ±9007199254740991 (2^53 - 1); write larger integers as strings',
    );
    expect(refusal([0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0])).toContain('holds the integer -9007199254740992');
  });

  it('names the field of a refused value', () => {
    expect(refusal(pack({ lines: [{ qty: 1 }, { qty: 2 }, { qty: 10n ** 18n }] }))).toBe(
      'data.lines[2].qty holds the integer 1000000000000000000, beyond ±9007199254740991 (2^53 - 1); write larger integers as strings',
    );
  });

  it('refuses NaN and infinities, bin, extension values, invalid UTF-8, odd map keys, 0xc1, truncation and deep nesting', () => {
    expect(refusal([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0])).toContain('holds the float NaN');
    expect(refusal([0xca, 0x7f, 0x80, 0, 0])).toContain('holds the float Infinity');
    expect(refusal([0xc4, 1, 0])).toContain('binary data');
    expect(refusal([0xd4, 0x65, 0x00])).toContain('msgpack extension value (type byte 0xd4)');
    expect(refusal([0xc7, 1, 0x01, 0])).toContain('msgpack extension value');
    expect(refusal([0x81, 0xa1, 0x6b, 0xa2, 0xc3, 0x28])).toBe('data.k holds a string that is not valid UTF-8');
    expect(refusal([0x81, 0xc0, 0x01])).toContain('map key of msgpack type 0xc0');
    expect(refusal([0x81, 0x91, 0x01, 0x01])).toContain('map key of msgpack type 0x91');
    expect(refusal([0xc1])).toContain('0xc1, which is not msgpack');
    expect(refusal([0x92, 0x01])).toContain('truncated');
    expect(refusal([0xdd, 0xff, 0xff, 0xff, 0xff])).toContain('truncated');
    expect(refusal([...Array(65).fill(0x91), 0x01])).toContain('nests deeper than 64 levels');
    expect(refusal([...Array(64).fill(0x91), 0x01])).toBe('accepted');
  });
});
