/**
 * Just enough MessagePack to cut a guest's output into frames without decoding the event data:
 * read array headers, small integers and strings, and skip any value. Event data is kept as the
 * exact bytes the guest wrote (the store keeps them byte for byte).
 */

export class FrameError extends Error {}

export class FrameReader {
  offset: number;

  constructor(
    public bytes: Uint8Array,
    start: number,
    public end: number,
  ) {
    this.offset = start;
  }

  /** Read another range with the same reader (one per instance, so a call allocates none). */
  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.offset = start;
    this.end = end;
    return this;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) throw new FrameError('truncated msgpack output');
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  private uint(n: 1 | 2 | 4): number {
    this.need(n);
    const b = this.bytes;
    const o = this.offset;
    this.offset += n;
    if (n === 1) return b[o]!;
    if (n === 2) return (b[o]! << 8) | b[o + 1]!;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  arrayHeader(): number {
    const t = this.u8();
    if ((t & 0xf0) === 0x90) return t & 0x0f;
    if (t === 0xdc) return this.uint(2);
    if (t === 0xdd) return this.uint(4);
    throw new FrameError(`expected an array, found type byte 0x${t.toString(16)}`);
  }

  /** A non-negative integer that fits in 32 bits. */
  smallUint(): number {
    const t = this.u8();
    if (t <= 0x7f) return t;
    if (t === 0xcc) return this.uint(1);
    if (t === 0xcd) return this.uint(2);
    if (t === 0xce) return this.uint(4);
    throw new FrameError(`expected a small unsigned integer, found type byte 0x${t.toString(16)}`);
  }

  /** Move past a string; returns its UTF-8 length (its bytes end at `offset`). */
  stringLength(): number {
    const t = this.u8();
    let len: number;
    if ((t & 0xe0) === 0xa0) len = t & 0x1f;
    else if (t === 0xd9) len = this.uint(1);
    else if (t === 0xda) len = this.uint(2);
    else if (t === 0xdb) len = this.uint(4);
    else throw new FrameError(`expected a string, found type byte 0x${t.toString(16)}`);
    this.need(len);
    this.offset += len;
    return len;
  }

  string(): string {
    const len = this.stringLength();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset - len, len).toString('utf8');
  }

  isNil(): boolean {
    this.need(1);
    return this.bytes[this.offset] === 0xc0;
  }

  /** Skip one value; returns its [start, end) range. */
  skip(): [number, number] {
    const start = this.offset;
    let pending = 1;
    while (pending > 0) {
      pending--;
      const t = this.u8();
      if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) continue;
      if ((t & 0xf0) === 0x80) pending += 2 * (t & 0x0f);
      else if ((t & 0xf0) === 0x90) pending += t & 0x0f;
      else if ((t & 0xe0) === 0xa0) this.advance(t & 0x1f);
      else {
        switch (t) {
          case 0xcc:
          case 0xd0:
            this.advance(1);
            break;
          case 0xcd:
          case 0xd1:
            this.advance(2);
            break;
          case 0xce:
          case 0xd2:
          case 0xca:
            this.advance(4);
            break;
          case 0xcf:
          case 0xd3:
          case 0xcb:
            this.advance(8);
            break;
          case 0xd9:
          case 0xc4:
            this.advance(this.uint(1));
            break;
          case 0xda:
          case 0xc5:
            this.advance(this.uint(2));
            break;
          case 0xdb:
          case 0xc6:
            this.advance(this.uint(4));
            break;
          case 0xdc:
            pending += this.uint(2);
            break;
          case 0xdd:
            pending += this.uint(4);
            break;
          case 0xde:
            pending += 2 * this.uint(2);
            break;
          case 0xdf:
            pending += 2 * this.uint(4);
            break;
          case 0xd4:
            this.advance(2);
            break;
          case 0xd5:
            this.advance(3);
            break;
          case 0xd6:
            this.advance(5);
            break;
          case 0xd7:
            this.advance(9);
            break;
          case 0xd8:
            this.advance(17);
            break;
          case 0xc7:
            this.advance(this.uint(1) + 1);
            break;
          case 0xc8:
            this.advance(this.uint(2) + 1);
            break;
          case 0xc9:
            this.advance(this.uint(4) + 1);
            break;
          default:
            throw new FrameError(`invalid msgpack type byte 0x${t.toString(16)}`);
        }
      }
    }
    return [start, this.offset];
  }

  private advance(n: number): void {
    this.need(n);
    this.offset += n;
  }
}

/** The msgpack encoding of a string, header included. */
export function encodeString(value: string): Uint8Array {
  const body = Buffer.from(value, 'utf8');
  const len = body.length;
  const header =
    len < 32
      ? [0xa0 | len]
      : len < 256
        ? [0xd9, len]
        : len < 65536
          ? [0xda, len >> 8, len & 0xff]
          : [0xdb, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(header.length + len);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** Write an array header of `n` elements at `offset`; returns the offset after it. */
export function writeArrayHeader(target: Uint8Array, offset: number, n: number): number {
  if (n < 16) {
    target[offset] = 0x90 | n;
    return offset + 1;
  }
  if (n < 65536) {
    target[offset] = 0xdc;
    target[offset + 1] = n >> 8;
    target[offset + 2] = n & 0xff;
    return offset + 3;
  }
  target[offset] = 0xdd;
  target[offset + 1] = n >>> 24;
  target[offset + 2] = (n >> 16) & 0xff;
  target[offset + 3] = (n >> 8) & 0xff;
  target[offset + 4] = n & 0xff;
  return offset + 5;
}

export function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 65536 ? 3 : 5;
}
