// Reading a msgpack map field by field: a command's payload, an event's data, a snapshot.
import { Reader } from "./reader";
import { readValue } from "./values";

/**
 * The fields of a msgpack map. Getters return a neutral value (0, "", false, null) for a missing
 * or mistyped field and record the problem, with the field's path (`lines[2].quantity`), in the
 * outermost map's `error`; the SDK turns a recorded problem in a command's payload into an
 * `INVALID_PAYLOAD` rejection, and one in an event or a snapshot into a `GUEST_FAULT`.
 *
 * A `Fields` points into the input bytes of the current call: read what you need during the
 * call and keep the values, never the `Fields` (the SDK reuses it for the next call).
 */
export class Fields {
  /** Per field: key start, key length, value start, value end (addresses in guest memory). */
  private ranges: usize[] = [];
  /** The first problem met reading this map or anything nested in it ("" when none). */
  error: string = "";
  /** Where this map sits in the outermost one: "" for the outermost, `lines[2]` for a nested one. */
  path: string = "";
  /** The outermost map, which collects the problems of every nested one (null: this is it). */
  private root: Fields | null = null;

  /** Parse the map at the reader's position into new fields and move past it. */
  static read(reader: Reader): Fields {
    return new Fields().parse(reader);
  }

  /** A map nested at `path` in `parent`: its problems are recorded in `parent`'s outermost map. */
  static nested(reader: Reader, parent: Fields, path: string): Fields {
    const fields = new Fields();
    fields.root = parent.root != null ? parent.root : parent;
    fields.path = path;
    return fields.parse(reader);
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

  /** A reader over the value of `key`, or null when the map has no such key. */
  valueOf(key: string): Reader | null {
    const ranges = this.ranges;
    for (let i = 0; i < ranges.length; i += 4) {
      if (bytesEqual(ranges[i], ranges[i + 1], key)) return new Reader(ranges[i + 2], ranges[i + 3]);
    }
    return null;
  }

  /** The path of `key` in the outermost map: `quantity`, or `lines[2].quantity` in a nested one. */
  pathOf(key: string): string {
    return this.path.length == 0 ? key : this.path + "." + key;
  }

  /** Record a problem (the first one wins), in the outermost map. */
  problem(message: string): void {
    const root = this.root != null ? this.root! : this;
    if (root.error.length == 0) root.error = message;
  }

  /** True when the map has `key` with a value other than nil: an optional field is absent or nil. */
  has(key: string): bool {
    const r = this.valueOf(key);
    return r != null && r.peek() != 0xc0;
  }

  /**
   * The value of `key` as a `T`, checked all the way down: a boolean, an integer type (`i64`,
   * `i32`, `u8`, … in range), `f64`/`f32`, `string`, an array `T[]`, a `Map<string, T>`, or a
   * class with `read(data: Fields)` (a `@data` class). A nullable `T` (`string | null`,
   * `Line[] | null`) makes the field optional: absent or nil read as null. Anything else records
   * a problem naming the path (`lines[2].quantity must be an integer`) and reads as 0, "", false
   * or an empty value.
   */
  get<T>(key: string): T {
    return readValue<T>(this.valueOf(key), this, this.pathOf(key), -1);
  }

  /**
   * An integer. JSON does not tell integers from floats, and msgpackr writes a JS integer past
   * 32 bits as a float64 (a millisecond timestamp, say), so an integral float in the i64 range is
   * an integer too; `1.5` is not.
   */
  int(key: string): i64 {
    return this.get<i64>(key);
  }

  float(key: string): f64 {
    return this.get<f64>(key);
  }

  str(key: string): string {
    return this.get<string>(key);
  }

  bool(key: string): bool {
    return this.get<bool>(key);
  }

  /** A nested map (for example the items kept in a snapshot); its problems name their path. */
  fields(key: string): Fields {
    const r = this.valueOf(key);
    if (r == null || !r.isMap()) {
      this.problem(this.pathOf(key) + " must be a map");
      return Fields.nested(new Reader(0, 0), this, this.pathOf(key));
    }
    return Fields.nested(r, this, this.pathOf(key));
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
