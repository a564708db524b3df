// Typed values in and out of msgpack, resolved at compile time from the declared type: what
// `Fields.get<T>`, `Obj.set<T>` and the fields of a `@data` class are read and written with.
// Each `if (isX<T>())` below is a constant once T is known, so a call compiles to the one branch
// its type needs and costs what a hand-written reader would.
import { Fields } from "./fields";
import { Bytes, packBool, packFloat, packHeader, packInt, packStr } from "./msgpack";
import { Obj } from "./obj";
import { Reader } from "./reader";

/** `base`, or element `index` of it (`lines[2]`); built only where a path is needed. */
function pathAt(base: string, index: i32): string {
  return index < 0 ? base : base + "[" + index.toString() + "]";
}

/** Record that the value at `base`/`index` is not what `T` needs, and move past it. */
function refuse(r: Reader | null, sink: Fields, base: string, index: i32, need: string): void {
  sink.problem(pathAt(base, index) + " must be " + need);
  if (r != null && r.error.length == 0) r.skip();
}

/**
 * Read one value as a `T` at the reader's position and move past it; `r` null means the field
 * is absent. Problems go to `sink` (the outermost map) with the value's path, `base` or element
 * `index` of `base`.
 */
export function readValue<T>(r: Reader | null, sink: Fields, base: string, index: i32): T {
  if (isNullable<T>()) {
    // Optional: absent or nil is null.
    if (r == null) return changetype<T>(0);
    if (r.peek() == 0xc0) {
      r.u8();
      return changetype<T>(0);
    }
  }
  if (isBoolean<T>()) {
    if (r != null && r.isBool()) return <T>r.bool();
    refuse(r, sink, base, index, "a boolean");
    return <T>false;
  } else if (isInteger<T>()) {
    return <T>readInteger(r, sink, base, index, isSigned<T>(), <i32>sizeof<T>() * 8);
  } else if (isFloat<T>()) {
    if (r != null && r.isInt()) return <T>r.int();
    if (r != null && r.isFloat()) return <T>r.float();
    refuse(r, sink, base, index, "a number");
    return <T>0;
  } else if (isString<T>()) {
    if (r != null && r.isString()) return changetype<T>(r.str());
    refuse(r, sink, base, index, "a string");
    return changetype<T>("");
  } else if (isArray<T>()) {
    const list = instantiate<nonnull<T>>();
    if (r == null || !r.isArray()) {
      refuse(r, sink, base, index, "an array");
      return changetype<T>(list);
    }
    const here = pathAt(base, index);
    const n = r.array();
    for (let i = 0; i < n && r.error.length == 0; i++) list.push(readValue<valueof<nonnull<T>>>(r, sink, here, i));
    return changetype<T>(list);
  } else if (isReference<T>()) {
    if (changetype<nonnull<T>>(0) instanceof Map) {
      const map = instantiate<nonnull<T>>();
      if (r == null || !r.isMap()) {
        refuse(r, sink, base, index, "a map");
        return changetype<T>(map);
      }
      const here = pathAt(base, index);
      const n = r.mapOrNone();
      for (let i = 0; i < n && r.error.length == 0; i++) {
        if (!r.isString()) {
          sink.problem(here + " must have string keys");
          r.skip();
          r.skip();
          continue;
        }
        const key = r.str();
        map.set(key, readValue<valueof<nonnull<T>>>(r, sink, here + "." + key, -1));
      }
      return changetype<T>(map);
    }
    if (!isDefined(changetype<nonnull<T>>(0).read)) {
      ERROR("a field's type must be bool, an integer, a float, string, an array, a Map<string, T> or a @data class");
    }
    const value = instantiate<nonnull<T>>();
    if (r == null || !r.isMap()) {
      refuse(r, sink, base, index, "a map");
      return changetype<T>(value);
    }
    value.read(Fields.nested(r, sink, pathAt(base, index)));
    return changetype<T>(value);
  }
  ERROR("a field's type must be bool, an integer, a float, string, an array, a Map<string, T> or a @data class");
  return changetype<T>(0);
}

/**
 * An integer of `bits` bits. JSON does not tell integers from floats, and msgpackr writes a JS
 * integer past 32 bits as a float64 (a millisecond timestamp, say), so an integral float in range
 * is an integer too; `1.5` is not.
 */
function readInteger(r: Reader | null, sink: Fields, base: string, index: i32, signed: bool, bits: i32): i64 {
  let value: i64 = 0;
  let ok = false;
  if (r != null && r.isInt()) {
    value = r.int();
    ok = r.error.length == 0;
  } else if (r != null && r.isFloat()) {
    const f = r.float();
    // NaN fails the first test, the infinities the range (2^63 is the first float past i64).
    if (f == Math.trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
      value = <i64>f;
      ok = true;
    }
  } else if (r != null) r.skip();
  if (!ok) {
    sink.problem(pathAt(base, index) + " must be an integer");
    return 0;
  }
  if (bits < 64 || !signed) {
    const min: i64 = signed ? -(<i64>1 << (bits - 1)) : 0;
    const max: i64 = bits == 64 ? i64.MAX_VALUE : signed ? (<i64>1 << (bits - 1)) - 1 : (<i64>1 << bits) - 1;
    if (value < min || value > max) {
      sink.problem(pathAt(base, index) + " must be an integer from " + min.toString() + " to " + max.toString());
      return 0;
    }
  }
  return value;
}

/** Write `value` as msgpack: the counterpart of `readValue`; null is nil. */
export function writeValue<T>(b: Bytes, value: T): void {
  if (isBoolean<T>()) packBool(b, <bool>value);
  else if (isInteger<T>()) packInt(b, <i64>value);
  else if (isFloat<T>()) packFloat(b, <f64>value);
  else if (isReference<T>()) {
    if (isNullable<T>()) {
      if (changetype<usize>(value) == 0) {
        b.byte(0xc0);
        return;
      }
    }
    if (isString<T>()) packStr(b, changetype<string>(value));
    else if (isArray<T>()) {
      const list = changetype<nonnull<T>>(value);
      packHeader(b, 0x90, list.length);
      for (let i = 0; i < list.length; i++) writeValue<valueof<nonnull<T>>>(b, unchecked(list[i]));
    } else if (changetype<nonnull<T>>(value) instanceof Map) {
      const map = changetype<nonnull<T>>(value);
      const keys = map.keys();
      packHeader(b, 0x80, keys.length);
      for (let i = 0; i < keys.length; i++) {
        writeValue(b, keys[i]);
        writeValue<valueof<nonnull<T>>>(b, map.get(keys[i]));
      }
    } else if (changetype<nonnull<T>>(value) instanceof Obj) changetype<Obj>(value).writeTo(b);
    else {
      if (!isDefined(changetype<nonnull<T>>(0).write)) {
        ERROR("a value to write must be bool, an integer, a float, string, an array, a Map, an Obj or a @data class");
      }
      const obj = new Obj();
      changetype<nonnull<T>>(value).write(obj);
      obj.writeTo(b);
    }
  } else ERROR("a value to write must be bool, an integer, a float, string, an array, a Map, an Obj or a @data class");
}
