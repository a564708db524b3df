/**
 * A CRC-32 on every stored event and snapshot, so that a flipped bit on disk is an error and never
 * a wrong value (LMDB checksums nothing: a byte changed in `data.mdb` reads back changed).
 *
 * A checksummed value is a frame: the byte 0xC1, the CRC-32 of the rest (little-endian), then the
 * msgpack record exactly as before. 0xC1 is the one byte msgpack never uses, so no value written
 * before checksums (whose first byte is a msgpack type: a record's structure id, a map) can be
 * taken for a frame: those read as before, unverified.
 *
 * Why a frame over the encoded bytes rather than a `crc` field in the envelope: the CRC then
 * covers everything (metadata, headers, the record's own framing), it is computed over bytes
 * lmdb-js already holds, and the envelope keeps its one shared structure. Measured (200,000
 * events of ~100 bytes, a full range scan, the 2-core reference machine): the frame checked in
 * the decoder costs ~10% of the scan (597k -> 544k events/s); reading the same frame through a
 * second, binary handle on the database and decoding it ourselves cost ~45% (lmdb-js copies each
 * value out, and msgpackr sets up a DataView per new buffer).
 *
 * The hook: lmdb-js encodes every `put` with `db.encoder.encode` and decodes every `get` and
 * range value with `db.decoder.decode` (the same msgpackr object), so wrapping those two methods
 * of this one database's codec checks every read, whoever reads. A value that fails its check
 * decodes to a `DamagedRecord` instead of throwing: a throw inside lmdb-js's range iterator would
 * leave its cursor open (see event-reads.ts), while a returned value reaches the caller, who
 * knows the key and names it.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** The first byte of a checksummed value. */
export const FRAME_MARK = 0xc1;
const HEADER_BYTES = 5;

/** What a damaged value decodes to: the caller knows its key and raises `STORE_CORRUPTED`. */
export class DamagedRecord {
  constructor(readonly problem: string) {}
}

/** CRC-32 (the zlib / PNG polynomial) lookup tables for slicing by 8. */
const TABLES = (() => {
  const table = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!;
    for (let t = 1; t < 8; t++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[t * 256 + n] = c;
    }
  }
  return table;
})();

/**
 * Below this many bytes the CRC is computed in JavaScript: zlib's native `crc32` costs ~120 ns a
 * call before it reads a byte, while the table loop takes ~45 ns for 60 bytes and ~75 ns for 120
 * (measured on the reference machine); past ~300 bytes the native one wins.
 */
const NATIVE_FROM = 256;

/** The CRC-32 of `bytes[start..end)`, as zlib's `crc32` computes it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (end - start >= NATIVE_FROM) return zlibCrc32(bytes.subarray(start, end));
  const t = TABLES;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const b = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^
      t[512 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** `body` behind a frame header that holds its CRC. */
export function frame(body: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = FRAME_MARK;
  out.writeUInt32LE(crc32(body), 1);
  out.set(body, HEADER_BYTES);
  return out;
}

/** The part of msgpackr's codec (as lmdb-js holds it) that the frame wraps. */
interface Codec {
  encode(value: unknown, mode?: number): Uint8Array;
  decode(bytes: Uint8Array, options?: number | { start?: number; end?: number }): unknown;
}

/**
 * Makes `db` write the values `shouldFrame` picks as checksummed frames, and check every frame
 * it reads. Values it does not pick (msgpackr's shared structures record, which lmdb-js decodes
 * through the same codec) are written as before.
 */
export function installChecksums(db: object, shouldFrame: (value: unknown) => boolean): void {
  const codec = (db as { encoder?: Codec }).encoder;
  if (codec === undefined || (db as { decoder?: Codec }).decoder !== codec) {
    throw new Error('lmdb-js changed: a msgpack database no longer has one encoder/decoder object to checksum through');
  }
  const encode = codec.encode;
  const decode = codec.decode;
  // Encoded without lmdb-js's buffer-reuse mode: that mode returns msgpackr's whole working
  // buffer with start/end marks, and the frame needs the bytes themselves, copied at once.
  codec.encode = (value, mode) => (shouldFrame(value) ? frame(encode.call(codec, value)) : encode.call(codec, value, mode));
  codec.decode = (bytes, options) => {
    if (bytes[0] !== FRAME_MARK) return decode.call(codec, bytes, options);
    // lmdb-js reuses one buffer for reads and sets its `length` property to the value's size,
    // which `subarray` and `crc32` would not see: always pass the end.
    const end = typeof options === 'number' ? options : (options?.end ?? bytes.length);
    return unframe(bytes, end, (start) => decode.call(codec, bytes, { start, end }));
  };
}

function unframe(bytes: Uint8Array, end: number, decodeFrom: (start: number) => unknown): unknown {
  if (end < HEADER_BYTES) return new DamagedRecord(`a checksummed value of ${end} bytes is shorter than its header`);
  const stored = (bytes[1]! | (bytes[2]! << 8) | (bytes[3]! << 16) | (bytes[4]! << 24)) >>> 0;
  const actual = crc32(bytes, HEADER_BYTES, end);
  if (stored !== actual)
    return new DamagedRecord(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)} over ${end - HEADER_BYTES} bytes)`);
  try {
    return decodeFrom(HEADER_BYTES);
  } catch (error) {
    // The bytes are as written, so this is not the disk: the shared structures it refers to
    // (stored once, unchecksummed) are damaged or missing.
    return new DamagedRecord(`its checksum holds but it cannot be decoded: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
