// Reading a msgpack map field by field: a command's payload, an event's data, a snapshot.
import { Reader } from "./reader";

/**
 * The fields of a msgpack map. Getters return a neutral value (0, "", false) for a missing or
 * mistyped field and record the problem in `error`; the SDK turns a recorded problem in a
 * command's payload into an `INVALID_PAYLOAD` rejection.
 *
 * A `Fields` points into the input bytes of the current call: read what you need during the
 * call and keep the values, never the `Fields` (the SDK reuses it for the next call).
 */
export class Fields {
  /** Per field: key start, key length, value start, value end (addresses in guest memory). */
  private ranges: usize[] = [];
  error: string = "";

  /** Parse the map at the reader's position into new fields and move past it. */
  static read(reader: Reader): Fields {
    return new Fields().parse(reader);
  }

  /** Parse the map at the reader's position into these fields, forgetting earlier ones. */
  parse(reader: Reader): Fields {
    this.ranges.length = 0;
    this.error = "";
    const n = reader.mapOrNone();
    if (n < 0) {
      // Not a map (an array, a number, nil): no fields, so every getter reports its key.
      reader.skip();
      return this;
    }
    // A map header may claim more entries than the input holds: stop at the first problem
    // instead of counting up to a 32-bit count.
    for (let i = 0; i < n && reader.error.length == 0; i++) {
      if (!reader.isString()) {
        reader.skip();
        reader.skip();
        continue;
      }
      const keyEnd = reader.strEnd();
      const keyLen = reader.lastLength;
      const start = reader.pos;
      reader.skip();
      this.ranges.push(keyEnd - keyLen);
      this.ranges.push(keyLen);
      this.ranges.push(start);
      this.ranges.push(reader.pos);
    }
    return this;
  }

  /** The keys, decoded (for maps keyed by data, such as the items of a snapshot). */
  get keys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.ranges.length; i += 4) keys.push(String.UTF8.decodeUnsafe(this.ranges[i], this.ranges[i + 1]));
    return keys;
  }

  private at(key: string): Reader | null {
    const ranges = this.ranges;
    for (let i = 0; i < ranges.length; i += 4) {
      if (bytesEqual(ranges[i], ranges[i + 1], key)) return new Reader(ranges[i + 2], ranges[i + 3]);
    }
    return null;
  }

  private problem(message: string): void {
    if (this.error.length == 0) this.error = message;
  }

  has(key: string): bool {
    return this.at(key) != null;
  }

  /**
   * An integer. JSON does not tell integers from floats, and msgpackr writes a JS integer past
   * 32 bits as a float64 (a millisecond timestamp, say), so an integral float in the i64 range is
   * an integer too; `1.5` is not.
   */
  int(key: string): i64 {
    const r = this.at(key);
    if (r != null && r.isInt()) {
      const v = r.int();
      if (r.error.length == 0) return v;
    } else if (r != null && r.isFloat()) {
      const f = r.float();
      // NaN fails the first test, the infinities the range (2^63 is the first float past i64).
      if (f == Math.trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) return <i64>f;
    }
    this.problem(key + " must be an integer");
    return 0;
  }

  float(key: string): f64 {
    const r = this.at(key);
    if (r != null && r.isInt()) return <f64>r.int();
    if (r == null || !r.isFloat()) {
      this.problem(key + " must be a number");
      return 0;
    }
    return r.float();
  }

  str(key: string): string {
    const r = this.at(key);
    if (r == null || !r.isString()) {
      this.problem(key + " must be a string");
      return "";
    }
    return r.str();
  }

  bool(key: string): bool {
    const r = this.at(key);
    if (r == null || !r.isBool()) {
      this.problem(key + " must be a boolean");
      return false;
    }
    return r.bool();
  }

  /** A nested map (for example the items kept in a snapshot). */
  fields(key: string): Fields {
    const r = this.at(key);
    if (r == null || !r.isMap()) {
      this.problem(key + " must be a map");
      return new Fields();
    }
    return Fields.read(r);
  }
}

/** True when the UTF-8 bytes at `ptr` spell `s`; compares ASCII without decoding. */
export function bytesEqual(ptr: usize, len: usize, s: string): bool {
  const chars = s.length;
  if (<usize>chars == len) {
    let ascii = true;
    for (let i = 0; i < chars; i++) {
      const c = <u32>s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      if (<u32>load<u8>(ptr + i) != c) return false;
    }
    if (ascii) return true;
  } else if (<usize>chars > len) {
    // UTF-8 never takes fewer bytes than UTF-16 code units.
    return false;
  }
  return String.UTF8.decodeUnsafe(ptr, len) == s;
}
