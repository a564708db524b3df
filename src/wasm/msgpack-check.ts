/**
 * Checks a guest's msgpack value against the value rule of src/json-values.ts before the host
 * accepts it: event data and rejection data must decode, in every API, to what the guest wrote.
 *
 * Allowed: nil, booleans, integers within ±(2^53 − 1) in any msgpack width, finite floats, UTF-8
 * strings, arrays, and maps whose keys are strings or such integers, nested at most
 * MAX_VALUE_DEPTH levels. Refused: larger integers (a JS reader would get a BigInt, and JSON
 * cannot carry one), NaN and infinities (JSON has none), binary (no JSON form), extension types
 * (msgpackr turns some into Dates, Errors or Sets, and fails on others: one such event once made
 * the whole log unreadable), invalid UTF-8 (it would read back altered), and the unused byte 0xc1.
 *
 * It walks the bytes once without building anything, so checking costs far less than the decode
 * the reply needs anyway. Only when a value is refused does a second walk find the field's path.
 */
import { isUtf8 } from 'node:buffer';
import { MAX_VALUE_DEPTH } from '../json-values.js';
import { FrameError } from './msgpack-frames.js';

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Checks the one msgpack value at `bytes[start, end)` and returns the offset after it. Throws a
 * `FrameError` saying what is wrong and where (`data.lines[2].qty holds …`), `where` naming the
 * value (`data`).
 */
export function checkValue(bytes: Uint8Array, start: number, end: number, where: string): number {
  const walker = new Walker(bytes, start, end, undefined);
  try {
    walker.value(0);
    return walker.offset;
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    try {
      new Walker(bytes, start, end, [where]).value(0);
    } catch (located) {
      if (located instanceof FrameError) throw located;
    }
    throw new FrameError(`${where} ${error.message}`);
  }
}

/**
 * Walks one value. `path` is only given on the second walk, which prefixes the message with
 * where the problem is.
 */
class Walker {
  /** Made on first use: most values (small maps of small integers and short strings) need none. */
  private dataView: DataView | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
    private readonly end: number,
    private readonly path: string[] | undefined,
  ) {}

  value(depth: number): void {
    this.need(1);
    const t = this.bytes[this.offset++]!;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return;
    if ((t & 0xe0) === 0xa0) return this.string(t & 0x1f);
    if ((t & 0xf0) === 0x90) return this.array(t & 0x0f, depth);
    if ((t & 0xf0) === 0x80) return this.map(t & 0x0f, depth);
    switch (t) {
      case 0xcc:
      case 0xd0:
        return this.skip(1);
      case 0xcd:
      case 0xd1:
        return this.skip(2);
      case 0xce:
      case 0xd2:
        return this.skip(4);
      case 0xcf: {
        this.need(8);
        const value = this.view.getBigUint64(this.offset);
        if (value > MAX_EXACT)
          this.fail(`holds the integer ${value}, beyond ±${Number.MAX_SAFE_INTEGER} (2^53 - 1); write larger integers as strings`);
        return this.skip(8);
      }
      case 0xd3: {
        this.need(8);
        const value = this.view.getBigInt64(this.offset);
        if (value > MAX_EXACT || value < -MAX_EXACT)
          this.fail(`holds the integer ${value}, beyond ±${Number.MAX_SAFE_INTEGER} (2^53 - 1); write larger integers as strings`);
        return this.skip(8);
      }
      case 0xca: {
        this.need(4);
        const value = this.view.getFloat32(this.offset);
        if (!Number.isFinite(value)) this.fail(`holds the float ${value}, which JSON cannot carry`);
        return this.skip(4);
      }
      case 0xcb: {
        this.need(8);
        const value = this.view.getFloat64(this.offset);
        if (!Number.isFinite(value)) this.fail(`holds the float ${value}, which JSON cannot carry`);
        return this.skip(8);
      }
      case 0xd9:
        return this.string(this.header(1));
      case 0xda:
        return this.string(this.header(2));
      case 0xdb:
        return this.string(this.header(4));
      case 0xdc:
        return this.array(this.header(2), depth);
      case 0xdd:
        return this.array(this.header(4), depth);
      case 0xde:
        return this.map(this.header(2), depth);
      case 0xdf:
        return this.map(this.header(4), depth);
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return this.fail('holds binary data (msgpack bin), which has no JSON form; write a string (e.g. base64) or an array of numbers');
      case 0xc7:
      case 0xc8:
      case 0xc9:
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return this.fail(`holds a msgpack extension value (type byte 0x${t.toString(16)}), which has no JSON form`);
      default:
        return this.fail(`holds the byte 0x${t.toString(16)}, which is not msgpack`);
    }
  }

  private string(length: number): void {
    this.need(length);
    const bytes = this.bytes;
    const end = this.offset + length;
    // ASCII is valid UTF-8: a loop over a short key costs less than the call into isUtf8.
    let i = this.offset;
    while (i < end && bytes[i]! < 0x80) i++;
    if (i < end && !isUtf8(bytes.subarray(i, end))) this.fail('holds a string that is not valid UTF-8');
    this.offset = end;
  }

  private get view(): DataView {
    return (this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  private array(count: number, depth: number): void {
    if (depth >= MAX_VALUE_DEPTH) this.fail(`nests deeper than ${MAX_VALUE_DEPTH} levels`);
    // Each element takes a byte at least: a forged count fails here, before any loop.
    this.need(count);
    for (let i = 0; i < count; i++) {
      this.path?.push(`[${i}]`);
      this.value(depth + 1);
      this.path?.pop();
    }
  }

  private map(count: number, depth: number): void {
    if (depth >= MAX_VALUE_DEPTH) this.fail(`nests deeper than ${MAX_VALUE_DEPTH} levels`);
    this.need(2 * count);
    for (let i = 0; i < count; i++) {
      const keyStart = this.offset;
      const k = this.bytes[keyStart]!;
      const isString = (k & 0xe0) === 0xa0 || k === 0xd9 || k === 0xda || k === 0xdb;
      const isInteger = k <= 0x7f || k >= 0xe0 || (k >= 0xcc && k <= 0xd3);
      if (!isString && !isInteger) this.fail(`has a map key of msgpack type 0x${k.toString(16)}; keys must be strings (or integers)`);
      this.value(depth + 1);
      this.path?.push(`.${keyText(this.bytes, keyStart, this.offset)}`);
      this.value(depth + 1);
      this.path?.pop();
    }
  }

  /** Reads a big-endian length of `n` bytes. */
  private header(n: 1 | 2 | 4): number {
    this.need(n);
    const o = this.offset;
    this.offset += n;
    const b = this.bytes;
    return n === 1 ? b[o]! : n === 2 ? (b[o]! << 8) | b[o + 1]! : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private skip(n: number): void {
    this.need(n);
    this.offset += n;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) this.fail('is truncated msgpack');
  }

  private fail(problem: string): never {
    throw new FrameError(this.path === undefined ? problem : `${this.path.join('')} ${problem}`);
  }
}

/** A checked map key as text, for paths (only on the slow path). */
function keyText(bytes: Uint8Array, start: number, end: number): string {
  const t = bytes[start]!;
  const header = (t & 0xe0) === 0xa0 ? 1 : t === 0xd9 ? 2 : t === 0xda ? 3 : t === 0xdb ? 5 : -1;
  if (header < 0) return `[${Buffer.from(bytes.subarray(start, end)).toString('hex')}]`;
  return Buffer.from(bytes.subarray(start + header, end)).toString('utf8');
}
