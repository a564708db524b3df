// The surface an aggregate is written against: read fields of a command or event, build event
// data, emit events or reject.
import { Reader, Writer } from "./msgpack";

/**
 * The fields of a msgpack map (a command's payload, an event's data, a snapshot). Getters return
 * a neutral value for a missing or mistyped field and record the problem in `error`; the SDK
 * turns a recorded problem in a command's payload into an `INVALID_PAYLOAD` rejection.
 */
export class Fields {
  /** Per field: key start, key length, value start, value end (addresses in guest memory). */
  private ranges: usize[] = [];
  error: string = "";

  /** Parse the map at the reader's position and move past it. A non-map value gives no fields. */
  static read(reader: Reader): Fields {
    const fields = new Fields();
    const n = reader.mapOrNone();
    if (n < 0) {
      reader.skip();
      return fields;
    }
    for (let i = 0; i < n; i++) {
      if (!reader.isString()) {
        reader.skip();
        reader.skip();
        continue;
      }
      const keyEnd = reader.strEnd();
      const keyLen = reader.lastLength;
      const start = reader.pos;
      reader.skip();
      fields.ranges.push(keyEnd - keyLen);
      fields.ranges.push(keyLen);
      fields.ranges.push(start);
      fields.ranges.push(reader.pos);
    }
    return fields;
  }

  /** The keys, decoded (for maps keyed by data, such as a list of items in a snapshot). */
  get keys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.ranges.length; i += 4) keys.push(String.UTF8.decodeUnsafe(this.ranges[i], this.ranges[i + 1]));
    return keys;
  }

  private at(key: string): Reader | null {
    const ranges = this.ranges;
    for (let i = 0; i < ranges.length; i += 4) {
      if (keyEquals(ranges[i], ranges[i + 1], key)) return new Reader(ranges[i + 2], ranges[i + 3]);
    }
    return null;
  }

  private problem(message: string): void {
    if (this.error.length == 0) this.error = message;
  }

  has(key: string): bool {
    return this.at(key) != null;
  }

  int(key: string): i64 {
    const r = this.at(key);
    if (r == null || !r.isInt()) {
      this.problem(key + " must be an integer");
      return 0;
    }
    return r.int();
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

  /** A nested map (for example a list of items kept in a snapshot). */
  fields(key: string): Fields {
    const r = this.at(key);
    if (r == null) {
      this.problem(key + " must be a map");
      return new Fields();
    }
    return Fields.read(r);
  }
}

/** Compare UTF-8 bytes in memory with a string, without decoding them. */
function keyEquals(ptr: usize, len: usize, key: string): bool {
  const chars = key.length;
  if (<usize>chars == len) {
    let ascii = true;
    for (let i = 0; i < chars; i++) {
      const c = <u32>key.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      if (<u32>load<u8>(ptr + i) != c) return false;
    }
    if (ascii) return true;
  }
  return String.UTF8.decodeUnsafe(ptr, len) == key;
}

/** Builds a msgpack map field by field: event data, snapshots. */
export class Obj {
  count: i32 = 0;
  body: Writer = new Writer(32);

  private key(k: string): Obj {
    this.count++;
    this.body.str(k);
    return this;
  }

  int(k: string, v: i64): Obj {
    this.key(k).body.int(v);
    return this;
  }

  float(k: string, v: f64): Obj {
    this.key(k).body.float(v);
    return this;
  }

  str(k: string, v: string): Obj {
    this.key(k).body.str(v);
    return this;
  }

  bool(k: string, v: bool): Obj {
    this.key(k).body.bool(v);
    return this;
  }

  obj(k: string, v: Obj): Obj {
    this.key(k);
    v.writeTo(this.body);
    return this;
  }

  writeTo(w: Writer): void {
    w.map(this.count);
    w.raw(this.body.ptr, this.body.len);
  }
}

/** A stored event handed to `apply`. */
export class Event {
  constructor(public type: string, public data: Fields) {}
}

/** A command handed to `handle`. */
export class Command {
  constructor(public name: string, public data: Fields) {}
}

/** What `handle` decides: events to append, or a rejection. */
export class Outcome {
  types: string[] = [];
  data: Obj[] = [];
  rejected: bool = false;
  code: string = "";
  message: string = "";

  emit(type: string, data: Obj): void {
    this.types.push(type);
    this.data.push(data);
  }

  reject(code: string, message: string): void {
    this.rejected = true;
    this.code = code;
    this.message = message;
  }
}

/**
 * An aggregate: its state, how events change it, and how it decides on commands. `handle` must
 * not change the state; the runtime calls `apply` with the events once they are stored.
 */
export abstract class Aggregate {
  abstract apply(event: Event): void;
  abstract handle(command: Command, out: Outcome): void;
  /** The state as a map, for snapshots. */
  abstract snapshot(): Obj;
  /** Set the state from a snapshot's map. */
  abstract restore(state: Fields): void;
}
