/**
 * msgpack for the command payloads the host hands a guest (docs/abi.md, "What a guest receives").
 *
 * Every integer is a msgpack integer in its smallest form: a positive one an unsigned int (fixint,
 * uint8 … uint64), a negative one a signed int (negative fixint, int8 … int64), whatever its size.
 * msgpackr, used before, wrote integers past 32 bits as float64s, which a typed guest (serde's
 * `u64`) refuses; JSON has one number type, so an integral number is always an integer here and
 * any other finite number a float64. Maps and arrays take their smallest header, strings are
 * UTF-8 (one with a lone surrogate is refused), and a property set to `undefined` is no property (as in JSON and the HTTP API), so a
 * payload reaches the guest as the same bytes whether it came through `Engine.execute` or HTTP.
 *
 * The value is what `normalizePayload` (src/json-values.ts) copied, so anything else is a bug
 * upstream or a direct caller of the wasm layer; it throws, and the caller answers INVALID_PAYLOAD.
 */
const MIN_CAPACITY = 4096;

/**
 * Nesting the encoder follows before it gives up. The value rule's limit (64 levels) is checked
 * where payloads enter (`normalizePayload`); this one only keeps the recursion off the end of the
 * stack for a direct caller of the wasm layer (a guest's own tests feed it deeper values).
 */
const MAX_ENCODE_DEPTH = 2000;

export class PayloadEncoder {
  private buffer = Buffer.allocUnsafe(MIN_CAPACITY);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  private pos = 0;

  /** The msgpack bytes of `value`; valid until the next call (they live in the encoder's buffer). */
  encode(value: unknown): Uint8Array {
    this.pos = 0;
    this.value(value, 0);
    return this.buffer.subarray(0, this.pos);
  }

  private ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  private value(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'number':
        return this.number(value);
      case 'string':
        return this.string(value);
      case 'boolean':
        this.ensure(1);
        this.buffer[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.ensure(1);
        this.buffer[this.pos++] = 0xc0;
        return;
      case 'object':
        if (value === null) {
          this.ensure(1);
          this.buffer[this.pos++] = 0xc0;
          return;
        }
        if (depth >= MAX_ENCODE_DEPTH) throw new Error(`the value nests deeper than ${MAX_ENCODE_DEPTH} levels`);
        if (Array.isArray(value)) return this.array(value, depth);
        return this.map(value as Record<string, unknown>, depth);
      default:
        throw new Error(`a ${typeof value} is not a JSON value`);
    }
  }

  private number(n: number): void {
    this.ensure(9);
    const b = this.buffer;
    if (Number.isInteger(n)) {
      if (!Number.isSafeInteger(n)) throw new Error(`the integer ${n} is beyond ±${Number.MAX_SAFE_INTEGER}`);
      if (n >= 0) {
        if (n < 0x80) b[this.pos++] = n;
        else if (n < 0x100) {
          b[this.pos++] = 0xcc;
          b[this.pos++] = n;
        } else if (n < 0x10000) {
          b[this.pos++] = 0xcd;
          this.view.setUint16(this.pos, n);
          this.pos += 2;
        } else if (n < 0x100000000) {
          b[this.pos++] = 0xce;
          this.view.setUint32(this.pos, n);
          this.pos += 4;
        } else {
          b[this.pos++] = 0xcf;
          this.view.setUint32(this.pos, Math.floor(n / 0x100000000));
          this.view.setUint32(this.pos + 4, n >>> 0);
          this.pos += 8;
        }
      } else if (n >= -0x20) b[this.pos++] = 0x100 + n;
      else if (n >= -0x80) {
        b[this.pos++] = 0xd0;
        this.view.setInt8(this.pos++, n);
      } else if (n >= -0x8000) {
        b[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, n);
        this.pos += 2;
      } else if (n >= -0x80000000) {
        b[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, n);
        this.pos += 4;
      } else {
        b[this.pos++] = 0xd3;
        this.view.setBigInt64(this.pos, BigInt(n));
        this.pos += 8;
      }
    } else {
      if (!Number.isFinite(n)) throw new Error(`${n} is not a finite number`);
      b[this.pos++] = 0xcb;
      this.view.setFloat64(this.pos, n);
      this.pos += 8;
    }
  }

  private string(s: string): void {
    // ASCII up to 31 characters (most keys and short values): one pass, no length computation.
    if (s.length < 32) {
      this.ensure(1 + s.length);
      const start = this.pos;
      const b = this.buffer;
      b[start] = 0xa0 | s.length;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + 1 + i] = c;
      }
      if (i === s.length) {
        this.pos = start + 1 + s.length;
        return;
      }
    }
    // A lone surrogate has no UTF-8 form; Buffer would write U+FFFD, a different string.
    if (!s.isWellFormed()) throw new Error('a string holds a lone surrogate, which has no UTF-8 form');
    const length = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + length);
    this.header(length, 0xa0, 32, 0xd9, 0xda, 0xdb);
    this.pos += this.buffer.write(s, this.pos, length, 'utf8');
  }

  private array(list: readonly unknown[], depth: number): void {
    this.ensure(5);
    this.header(list.length, 0x90, 16, undefined, 0xdc, 0xdd);
    for (let i = 0; i < list.length; i++) this.value(list[i], depth + 1);
  }

  private map(object: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(object);
    let count = 0;
    for (const key of keys) if (object[key] !== undefined) count++;
    this.ensure(5);
    this.header(count, 0x80, 16, undefined, 0xde, 0xdf);
    for (const key of keys) {
      const item = object[key];
      if (item === undefined) continue;
      this.string(key);
      this.value(item, depth + 1);
    }
  }

  /** The smallest header for `length`: the fix form below `fixLimit`, else 8, 16 or 32 bits. */
  private header(length: number, fix: number, fixLimit: number, h8: number | undefined, h16: number, h32: number): void {
    const b = this.buffer;
    if (length < fixLimit) b[this.pos++] = fix | length;
    else if (h8 !== undefined && length < 0x100) {
      b[this.pos++] = h8;
      b[this.pos++] = length;
    } else if (length < 0x10000) {
      b[this.pos++] = h16;
      this.view.setUint16(this.pos, length);
      this.pos += 2;
    } else {
      b[this.pos++] = h32;
      this.view.setUint32(this.pos, length);
      this.pos += 4;
    }
  }
}
