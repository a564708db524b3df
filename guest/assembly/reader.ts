// MessagePack for the guest, reading side: a bounds-checked reader over guest memory.
// AssemblyScript has no exceptions to catch, so the reader never traps on bad input: it records
// the first problem in `error` and returns neutral values, and callers check `error` once.

/** Reads msgpack from guest memory in [pos, end). */
export class Reader {
  error: string = "";
  /** Length of the last string passed over by `strEnd`. */
  lastLength: usize = 0;

  constructor(public pos: usize, public end: usize) {}

  /** Read another range with the same reader (the SDK reuses one per call kind). */
  reset(pos: usize, end: usize): Reader {
    this.pos = pos;
    this.end = end;
    this.error = "";
    return this;
  }

  fail(message: string): void {
    if (this.error.length == 0) this.error = message;
    this.pos = this.end;
  }

  private has(n: usize): bool {
    // Compared as a remainder, not as pos + n <= end: a 32-bit length read from the input can be
    // near 4 GiB, and pos + n would wrap around to a small address.
    if (n <= this.end - this.pos) return true;
    this.fail("truncated msgpack");
    return false;
  }

  peek(): u8 {
    return this.pos < this.end ? load<u8>(this.pos) : 0xc1;
  }

  u8(): u8 {
    if (!this.has(1)) return 0;
    const b = load<u8>(this.pos);
    this.pos += 1;
    return b;
  }

  private be(n: i32): u64 {
    if (!this.has(<usize>n)) return 0;
    let v: u64 = 0;
    for (let i = 0; i < n; i++) v = (v << 8) | <u64>load<u8>(this.pos + i);
    this.pos += n;
    return v;
  }

  array(): i32 {
    const t = this.u8();
    if ((t & 0xf0) == 0x90) return t & 0x0f;
    if (t == 0xdc) return this.count(this.be(2), 1);
    if (t == 0xdd) return this.count(this.be(4), 1);
    this.fail("expected an array");
    return 0;
  }

  /**
   * A header's entry count, checked against the bytes left (every value takes at least one), so
   * that a forged array32 or map32 count fails here instead of driving a loop billions of times
   * or reading as a negative i32.
   */
  private count(n: u64, bytesPerEntry: u64): i32 {
    if (n * bytesPerEntry <= <u64>(this.end - this.pos)) return <i32>n;
    this.fail("truncated msgpack");
    return 0;
  }

  /** A map header's entry count, or -1 (without failing) when the next value is not a map. */
  mapOrNone(): i32 {
    const t = this.peek();
    if ((t & 0xf0) == 0x80) {
      this.pos += 1;
      return t & 0x0f;
    }
    if (t == 0xde) {
      this.pos += 1;
      return this.count(this.be(2), 2);
    }
    if (t == 0xdf) {
      this.pos += 1;
      return this.count(this.be(4), 2);
    }
    return -1;
  }

  isMap(): bool {
    const t = this.peek();
    return (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf;
  }

  isArray(): bool {
    const t = this.peek();
    return (t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd;
  }

  isString(): bool {
    const t = this.peek();
    return (t & 0xe0) == 0xa0 || t == 0xd9 || t == 0xda || t == 0xdb;
  }

  isInt(): bool {
    const t = this.peek();
    return t <= 0x7f || t >= 0xe0 || (t >= 0xcc && t <= 0xd3);
  }

  isFloat(): bool {
    const t = this.peek();
    return t == 0xca || t == 0xcb;
  }

  isBool(): bool {
    const t = this.peek();
    return t == 0xc2 || t == 0xc3;
  }

  /** Move past a string without decoding it; returns its end and sets `lastLength`. */
  strEnd(): usize {
    const t = this.u8();
    let n: i32 = 0;
    if ((t & 0xe0) == 0xa0) n = t & 0x1f;
    else if (t == 0xd9) n = <i32>this.be(1);
    else if (t == 0xda) n = <i32>this.be(2);
    else if (t == 0xdb) n = <i32>this.be(4);
    else this.fail("expected a string");
    // A str32 length past 2 GiB reads as negative here: no input is that long.
    if (n < 0) {
      this.fail("truncated msgpack");
      n = 0;
    } else if (!this.has(<usize>n)) n = 0;
    this.pos += n;
    this.lastLength = n;
    return this.pos;
  }

  str(): string {
    const end = this.strEnd();
    if (this.error.length > 0) return "";
    return String.UTF8.decodeUnsafe(end - this.lastLength, this.lastLength);
  }

  int(): i64 {
    const t = this.u8();
    if (t <= 0x7f) return <i64>t;
    if (t >= 0xe0) return <i64>(<i8>t);
    switch (t) {
      case 0xcc: return <i64>this.be(1);
      case 0xcd: return <i64>this.be(2);
      case 0xce: return <i64>this.be(4);
      case 0xcf: {
        const v = this.be(8);
        if (v <= <u64>i64.MAX_VALUE) return <i64>v;
        this.fail("integer out of range");
        return 0;
      }
      case 0xd0: return <i64>(<i8>this.be(1));
      case 0xd1: return <i64>(<i16>this.be(2));
      case 0xd2: return <i64>(<i32>this.be(4));
      case 0xd3: return <i64>this.be(8);
    }
    this.fail("expected an integer");
    return 0;
  }

  float(): f64 {
    const t = this.u8();
    if (t == 0xca) return <f64>reinterpret<f32>(<u32>this.be(4));
    if (t == 0xcb) return reinterpret<f64>(this.be(8));
    this.fail("expected a float");
    return 0;
  }

  bool(): bool {
    const t = this.u8();
    if (t == 0xc3) return true;
    if (t != 0xc2) this.fail("expected a boolean");
    return false;
  }

  /** Skip one value of any type. */
  skip(): void {
    let pending: i64 = 1;
    while (pending > 0 && this.error.length == 0) {
      pending--;
      const t = this.u8();
      if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) continue;
      if ((t & 0xf0) == 0x80) pending += 2 * (t & 0x0f);
      else if ((t & 0xf0) == 0x90) pending += t & 0x0f;
      else if ((t & 0xe0) == 0xa0) this.advance(t & 0x1f);
      else if (t == 0xcc || t == 0xd0) this.advance(1);
      else if (t == 0xcd || t == 0xd1) this.advance(2);
      else if (t == 0xce || t == 0xd2 || t == 0xca) this.advance(4);
      else if (t == 0xcf || t == 0xd3 || t == 0xcb) this.advance(8);
      else if (t == 0xd9 || t == 0xc4) this.advance(<i64>this.be(1));
      else if (t == 0xda || t == 0xc5) this.advance(<i64>this.be(2));
      else if (t == 0xdb || t == 0xc6) this.advance(<i64>this.be(4));
      else if (t == 0xdc) pending += <i64>this.be(2);
      else if (t == 0xdd) pending += <i64>this.be(4);
      else if (t == 0xde) pending += 2 * <i64>this.be(2);
      else if (t == 0xdf) pending += 2 * <i64>this.be(4);
      else if (t == 0xd4) this.advance(2);
      else if (t == 0xd5) this.advance(3);
      else if (t == 0xd6) this.advance(5);
      else if (t == 0xd7) this.advance(9);
      else if (t == 0xd8) this.advance(17);
      else if (t == 0xc7) this.advance(<i64>this.be(1) + 1);
      else if (t == 0xc8) this.advance(<i64>this.be(2) + 1);
      else if (t == 0xc9) this.advance(<i64>this.be(4) + 1);
      else this.fail("invalid msgpack");
    }
  }

  private advance(n: i64): void {
    // Lengths arrive as 32-bit values (plus one for an extension's type byte): compare them in
    // 64 bits with what is left, so none wraps around to a small or negative step.
    if (n < 0 || <u64>n > <u64>(this.end - this.pos)) this.fail("truncated msgpack");
    else this.pos += <usize>n;
  }
}
