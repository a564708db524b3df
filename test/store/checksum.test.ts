/**
 * The CRC-32 of stored values (src/store/checksum.ts): the table loop used for small values
 * computes what zlib's does, on both sides of the size where it hands over to zlib.
 */
import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, frame } from '../../src/store/checksum.js';

describe('crc32', () => {
  it('equals zlib for every length from 0 to 600, at any offset', () => {
    const bytes = randomBytes(700);
    for (let length = 0; length <= 600; length++) {
      for (const start of [0, 3])
        expect(crc32(bytes, start, start + length), `length ${length}`).toBe(zlibCrc32(bytes.subarray(start, start + length)));
    }
  });

  it('frames a value as 0xC1, its CRC (little-endian), then the bytes', () => {
    const body = Buffer.from('a msgpack record');
    const framed = Buffer.from(frame(body));
    expect(framed[0]).toBe(0xc1);
    expect(framed.readUInt32LE(1)).toBe(zlibCrc32(body));
    expect(framed.subarray(5)).toEqual(body);
  });
});
