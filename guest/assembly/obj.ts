// Writing a msgpack map field by field: event data, snapshots.
import { Bytes, packBool, packFloat, packHeader, packInt, packStr } from "./msgpack";
import { writeValue } from "./values";

/**
 * A msgpack map under construction: `new Obj().int("amount", 5).str("note", "rent")`. The
 * runtime stores an event's map byte for byte as written here and hands the same bytes back to
 * `apply`; clients see it decoded as JSON (`{"amount":5,"note":"rent"}`).
 */
export class Obj extends Bytes {
  /** How many fields were written. */
  count: i32 = 0;

  constructor() {
    super(32);
  }

  private key(k: string): Obj {
    this.count++;
    packStr(this, k);
    return this;
  }

  int(k: string, v: i64): Obj {
    packInt(this.key(k), v);
    return this;
  }

  float(k: string, v: f64): Obj {
    packFloat(this.key(k), v);
    return this;
  }

  str(k: string, v: string): Obj {
    packStr(this.key(k), v);
    return this;
  }

  bool(k: string, v: bool): Obj {
    packBool(this.key(k), v);
    return this;
  }

  /** Nil: an optional field that holds nothing. */
  nil(k: string): Obj {
    this.key(k).byte(0xc0);
    return this;
  }

  /**
   * Any value `Fields.get<T>` reads: `set("lines", lines)` writes an array of `@data` classes,
   * `set("tags", ["a", "b"])` an array of strings, `set("lot", null as string | null)` nil.
   */
  set<T>(k: string, v: T): Obj {
    writeValue<T>(this.key(k), v);
    return this;
  }

  /** A nested map. */
  obj(k: string, v: Obj): Obj {
    v.writeTo(this.key(k));
    return this;
  }

  /** Append this map (header and fields) to `target`. */
  writeTo(target: Bytes): void {
    packHeader(target, 0x80, this.count);
    target.raw(this.ptr, this.len);
  }
}
