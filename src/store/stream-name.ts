/**
 * The rules for stream names (and, with other limits, for the other names the store keeps:
 * event types, event ids, command ids, checkpoint names).
 *
 * A name is a non-empty JS string of well-formed UTF-16 (no lone surrogates, so it has an exact
 * UTF-8 form), at most `MAX_STREAM_NAME_BYTES` bytes in UTF-8, without control characters (C0
 * U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F). Names become LMDB keys (at most ~2 KB), show up in
 * logs and URLs, and are compared byte for byte, so anything invisible or unencodable is refused
 * at the edge rather than stored. No NUL also means no name is a prefix-with-separator of another
 * inside the `[stream, seq]` keys.
 */
import { ThaloError } from '../errors.js';

/** The longest stream name, in UTF-8 bytes. */
export const MAX_STREAM_NAME_BYTES = 256;

/**
 * What is wrong with `name` as a `label` (e.g. "stream name"), or undefined when it is fine.
 * One pass over the string: it runs on every append, so no regex and no `Buffer.byteLength`.
 */
export function describeNameProblem(name: unknown, label: string, maxBytes: number): string | undefined {
  if (typeof name !== 'string') return `${label} must be a string, got ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return `${label} must not be empty`;
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names cannot be too long, skip counting them.
  let bytes = 0;
  const count = name.length * 3 > maxBytes;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 || c === 0x7f) return `${label} ${quote(name)} contains the control character ${hex(c)} at index ${i}`;
      bytes += 1;
    } else if (c < 0x800) {
      if (c < 0xa0) return `${label} ${quote(name)} contains the control character ${hex(c)} at index ${i}`;
      bytes += 2;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < name.length ? name.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        return `${label} ${quote(name)} is not valid UTF-8: lone surrogate ${hex(c)} at index ${i}`;
      }
      bytes += 4;
      i++;
    } else {
      bytes += 3;
    }
  }
  if (count && bytes > maxBytes) return `${label} ${quote(name)} is ${bytes} bytes in UTF-8, more than the ${maxBytes} allowed`;
  return undefined;
}

/**
 * Throws `INVALID_STREAM_NAME` (naming the problem) unless `stream` is a valid stream name.
 *
 * @example
 *   validateStreamName('counter-42');   // fine
 *   validateStreamName('counter\n42');  // throws: contains the control character U+000A at index 7
 */
export function validateStreamName(stream: unknown): asserts stream is string {
  const problem = describeNameProblem(stream, 'stream name', MAX_STREAM_NAME_BYTES);
  if (problem !== undefined) throw new ThaloError('INVALID_STREAM_NAME', problem, { data: { stream: printable(stream) } });
}

function hex(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** JSON quoting shows control characters escaped; long names are cut so messages stay readable. */
function quote(name: string): string {
  const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name;
  return JSON.stringify(shown);
}

function printable(value: unknown): unknown {
  return typeof value === 'string' && value.length > 300 ? `${value.slice(0, 297)}...` : value;
}
