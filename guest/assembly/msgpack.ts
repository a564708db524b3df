// MessagePack for the guest, writing side: a growable byte buffer and the encoders (the reading
// side is reader.ts).
import { writeValue } from "./values";

/** A growable byte buffer. `Writer` writes msgpack values into one; `Obj` writes map fields. */
export class Bytes {
  buf: ArrayBuffer;
  len: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new ArrayBuffer(capacity);
  }

  /** Address of the first byte; valid until the buffer grows. */
  get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  ensure(n: i32): void {
    const need = this.len + n;
    if (need <= this.buf.byteLength) return;
    let size = this.buf.byteLength << 1;
    while (size < need) size <<= 1;
    const next = new ArrayBuffer(size);
    memory.copy(changetype<usize>(next), changetype<usize>(this.buf), this.len);
    this.buf = next;
  }

  byte(b: u8): void {
    this.ensure(1);
    store<u8>(this.ptr + this.len, b);
    this.len += 1;
  }

  raw(ptr: usize, len: i32): void {
    this.ensure(len);
    memory.copy(this.ptr + this.len, ptr, len);
    this.len += len;
  }
}

function be16(b: Bytes, v: u32): void {
  b.ensure(2);
  const p = b.ptr + b.len;
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p + 1, <u8>v);
  b.len += 2;
}

function be32(b: Bytes, v: u32): void {
  b.ensure(4);
  store<u32>(b.ptr + b.len, bswap<u32>(v));
  b.len += 4;
}

// The encoders, shared by `Writer` (values) and `Obj` (a map's fields).

/** 2^53 - 1: the largest integer a JS number (a float64) holds exactly. */
const MAX_SAFE_INTEGER: i64 = 9007199254740991;

/**
 * The encodings msgpackr itself writes for JS numbers, so clients decode every integer a JS
 * number can hold as a number: the shortest unsigned or signed form up to 32 bits, a float64
 * (exact) up to 2^53, and an int64 only past that (msgpackr decodes an int64 as a BigInt, which
 * JSON cannot carry).
 */
export function packInt(b: Bytes, v: i64): void {
  if (v >= 0) {
    if (v < 128) b.byte(<u8>v);
    else if (v < 256) {
      b.byte(0xcc);
      b.byte(<u8>v);
    } else if (v < 65536) {
      b.byte(0xcd);
      be16(b, <u32>v);
    } else if (v <= 0xffffffff) {
      b.byte(0xce);
      be32(b, <u32>v);
    } else if (v <= MAX_SAFE_INTEGER) packFloat(b, <f64>v);
    else packInt64(b, v);
  } else {
    if (v >= -32) b.byte(<u8>(v & 0xff));
    else if (v >= -128) {
      b.byte(0xd0);
      b.byte(<u8>(v & 0xff));
    } else if (v >= -32768) {
      b.byte(0xd1);
      be16(b, <u32>(v & 0xffff));
    } else if (v >= -2147483648) {
      b.byte(0xd2);
      be32(b, <u32>v);
    } else if (v >= -MAX_SAFE_INTEGER) packFloat(b, <f64>v);
    else packInt64(b, v);
  }
}

function packInt64(b: Bytes, v: i64): void {
  b.byte(0xd3);
  be32(b, <u32>(v >> 32));
  be32(b, <u32>v);
}

export function packFloat(b: Bytes, v: f64): void {
  b.byte(0xcb);
  const bits = reinterpret<u64>(v);
  be32(b, <u32>(bits >> 32));
  be32(b, <u32>bits);
}

export function packStr(b: Bytes, s: string): void {
  // Keys and event types are short ASCII: write them without an intermediate UTF-8 buffer.
  const chars = s.length;
  if (chars < 32) {
    let ascii = true;
    for (let i = 0; i < chars; i++) {
      if (<u32>s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      b.ensure(chars + 1);
      const p = b.ptr + b.len;
      store<u8>(p, <u8>(0xa0 | chars));
      for (let i = 0; i < chars; i++) store<u8>(p + 1 + i, <u8>s.charCodeAt(i));
      b.len += chars + 1;
      return;
    }
  }
  const bytes = String.UTF8.encode(s);
  const n = bytes.byteLength;
  if (n < 32) b.byte(<u8>(0xa0 | n));
  else if (n < 256) {
    b.byte(0xd9);
    b.byte(<u8>n);
  } else if (n < 65536) {
    b.byte(0xda);
    be16(b, <u32>n);
  } else {
    b.byte(0xdb);
    be32(b, <u32>n);
  }
  b.raw(changetype<usize>(bytes), n);
}

export function packBool(b: Bytes, v: bool): void {
  b.byte(v ? 0xc3 : 0xc2);
}

/** An array (`base` 0x90) or map (`base` 0x80) header for `n` entries. */
export function packHeader(b: Bytes, base: u8, n: i32): void {
  if (n < 16) b.byte(base | <u8>n);
  else if (n < 65536) {
    b.byte(base == 0x90 ? 0xdc : 0xde);
    be16(b, <u32>n);
  } else {
    b.byte(base == 0x90 ? 0xdd : 0xdf);
    be32(b, <u32>n);
  }
}

/** A byte buffer that writes msgpack values. */
export class Writer extends Bytes {
  reset(): Writer {
    this.len = 0;
    return this;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(v: bool): void {
    packBool(this, v);
  }

  int(v: i64): void {
    packInt(this, v);
  }

  float(v: f64): void {
    packFloat(this, v);
  }

  str(s: string): void {
    packStr(this, s);
  }

  bin(ptr: usize, n: i32): void {
    if (n < 256) {
      this.byte(0xc4);
      this.byte(<u8>n);
    } else if (n < 65536) {
      this.byte(0xc5);
      be16(this, <u32>n);
    } else {
      this.byte(0xc6);
      be32(this, <u32>n);
    }
    this.raw(ptr, n);
  }

  array(n: i32): void {
    packHeader(this, 0x90, n);
  }

  map(n: i32): void {
    packHeader(this, 0x80, n);
  }

  /** Any value `Fields.get<T>` reads (an array, a map, a `@data` class, …). */
  value<T>(v: T): void {
    writeValue<T>(this, v);
  }
}
