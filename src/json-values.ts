/**
 * The one rule for values that cross Thalo: command payloads going in, event data and rejection
 * data coming out of a guest, and what readers get back (Node, JSON, Server-Sent Events, relays).
 *
 * A value is a JSON value: objects with string keys, arrays, strings, finite numbers, booleans and
 * null. Integers are exact only within ±(2^53 − 1) (`Number.MAX_SAFE_INTEGER`), the range in which
 * a JS number, a JSON number in every common parser and a msgpack integer mean the same thing.
 * So:
 * - a command payload holding an integral number outside that range, a BigInt, a function, a
 *   symbol, a Date or any other non-plain object, a non-finite number, a throwing getter, or more
 *   than MAX_VALUE_DEPTH levels of nesting is refused with `INVALID_PAYLOAD` naming the field;
 *   an `undefined` property is dropped (as JSON drops it), an `undefined` array element is null;
 * - a guest's event or rejection data must hold the same kinds of values (the host checks the
 *   msgpack bytes before anything is written: src/wasm/msgpack-check.ts), so a stored event always
 *   reads back as it was written, in every API;
 * - events stored before the rule that hold a larger integer still read: as a BigInt in Node and
 *   as a decimal string in JSON (`toJson`), and bytes that do not decode at all read as
 *   `{ data: null, undecodable: { reason, base64 } }` (src/protocol/decode-event.ts).
 * Integers larger than 2^53 belong in strings, in both directions.
 */
import { Unpackr } from 'msgpackr';
import { ThaloError } from './errors.js';

/** The deepest nesting of objects and arrays a payload or an event may have. */
export const MAX_VALUE_DEPTH = 64;

/** Whether `value` is a number the rule lets through: finite, and exact if integral. */
function isExactNumber(value: number): boolean {
  return Number.isFinite(value) && (Number.isSafeInteger(value) || !Number.isInteger(value));
}

/**
 * msgpack decoding for event and rejection data: int64s that fit a JS number as numbers (msgpackr
 * would make every uint64/int64 a BigInt, even 5), larger ones (stored before the rule) as BigInts.
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' } as unknown as ConstructorParameters<
  typeof Unpackr
>[0]);

/** Decodes one msgpack value; throws when the bytes are not msgpack. */
export function unpackValue(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/**
 * A plain copy of a command payload, or `INVALID_PAYLOAD` naming the field (`payload.lines[2].qty`)
 * that breaks the rule above. The copy is what travels to the worker, so a getter runs once and a
 * structured clone can never fail on it.
 *
 * @example
 *   normalizePayload({ amount: 1, note: undefined }, 'payload')   // { amount: 1 }
 *   normalizePayload({ amount: 1e18 }, 'payload')                 // throws INVALID_PAYLOAD: payload.amount: …
 */
export function normalizePayload(value: unknown, where: string): unknown {
  return copyValue(value, where, 0);
}

function copyValue(value: unknown, path: string, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      // A lone surrogate has no UTF-8 form: msgpack would carry bytes no reader takes back.
      if (!value.isWellFormed()) refuse(path, 'is not well-formed text (it holds a lone surrogate)');
      return value;
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `${value} is not a finite number`);
      if (!isExactNumber(value)) {
        refuse(
          path,
          `${value} is an integer beyond ±${Number.MAX_SAFE_INTEGER} (2^53 - 1), which JSON and msgpack cannot carry exactly; send it as a string`,
        );
      }
      return value;
    case 'undefined':
      return null;
    case 'bigint':
      refuse(path, `is a BigInt; send an integer within ±${Number.MAX_SAFE_INTEGER} as a number, or a larger one as a string`);
      break;
    case 'function':
    case 'symbol':
      refuse(path, `is a ${typeof value}, not a JSON value`);
      break;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_VALUE_DEPTH) refuse(path, `nests deeper than ${MAX_VALUE_DEPTH} levels (or refers to itself)`);
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = copyValue(read(value, i, path), `${path}[${i}]`, depth + 1);
        return out;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        refuse(path, `is a ${describeObject(value)}; a payload holds only plain objects, arrays, strings, numbers, booleans and null`);
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        // An own "__proto__" (JSON.parse makes one) would set the copy's prototype, not a field.
        if (key === '__proto__') refuse(`${path}.__proto__`, 'is not allowed as a field name');
        const item = read(value, key, path);
        // As JSON.stringify does: a property set to undefined is no property.
        if (item === undefined) continue;
        out[key] = copyValue(item, `${path}.${key}`, depth + 1);
      }
      return out;
    }
  }
  return refuse(path, 'is not a JSON value');
}

/** A property read that names the field when a getter throws. */
function read(target: object, key: string | number, path: string): unknown {
  try {
    return (target as Record<string | number, unknown>)[key];
  } catch (error) {
    const where = typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
    return refuse(where, `could not be read: its getter threw (${error instanceof Error ? error.message : String(error)})`);
  }
}

function describeObject(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'non-plain object';
}

function refuse(path: string, problem: string): never {
  throw new ThaloError('INVALID_PAYLOAD', `${path} ${problem}`, { data: { field: path } });
}

/**
 * `JSON.stringify`, except that a BigInt (an integer stored before the rule above) is written as
 * its decimal string instead of throwing. The fallback runs only when the plain call threw, so the
 * common case costs nothing extra.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
  }
}
