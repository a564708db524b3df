/**
 * The expected-version rule, written once: what a command or an append may expect of its stream,
 * how that is read from a header, a flag or a JSON value, when it holds, and the one
 * `WRONG_EXPECTED_VERSION` error that says it did not.
 *
 * The store compares it inside its write transaction (the truth); the worker compares it first
 * against its cached state, to refuse a stale command before running guest code; the engine, the
 * server and the CLI check its shape at their edges, each naming its own field. They used to hold
 * five copies with three messages for a bad value and two for one conflict. This file imports
 * nothing but the errors, so the store, the workers and the client can all use it.
 *
 * @example
 *   const expected = parseExpectedVersion(headerText, 'header Thalo-Expected-Version');
 *   if (!expectedVersionHolds(expected, head.seq)) throw expectedVersionConflict(stream, expected, head.seq);
 */
import { ThaloError } from './errors.js';

/**
 * What an append expects of its stream: `any`, `no_stream` (the stream has no events), `exists`
 * (it has at least one), or the exact seq of its last event (0 means no events, like `no_stream`).
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'exists' | number;

const KEYWORDS: readonly string[] = ['any', 'no_stream', 'exists'];

/**
 * Decimal text of an exact version: no sign, no leading zeros, at most 16 digits. The 16th digit
 * may still pass 2^53 - 1, which the caller checks on the number; `Number()` alone would round
 * `"9007199254740993"` to a version the client never sent.
 */
const VERSION_TEXT = /^(0|[1-9][0-9]{0,15})$/;

function isKeyword(value: unknown): value is 'any' | 'no_stream' | 'exists' {
  return typeof value === 'string' && KEYWORDS.includes(value);
}

function isExactVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The `INVALID_ARGUMENT` error for a value that is no expected version, naming `where` it came from. */
function invalidExpectedVersion(value: unknown, where: string): ThaloError {
  // A JSON number past 2^53 - 1 was rounded by `JSON.parse` before anyone saw it: say so rather
  // than pretend the rounded value was sent.
  const got =
    typeof value === 'number' && Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER
      ? `${value} (a JSON number past ${Number.MAX_SAFE_INTEGER}, which JSON parsing cannot carry exactly)`
      : (JSON.stringify(value) ?? String(value));
  return new ThaloError(
    'INVALID_ARGUMENT',
    `${where} must be "any", "no_stream", "exists" or an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${got}`,
  );
}

/**
 * `value` as an expected version, for the Node API (`options.expected`, `options.expectedVersion`):
 * a keyword or a safe non-negative integer, nothing else. `undefined` is `'any'`, since expecting
 * nothing is expecting anything. Throws `INVALID_ARGUMENT` naming `where`.
 */
export function validateExpectedVersion(value: unknown, where: string): ExpectedVersion {
  if (value === undefined) return 'any';
  if (isKeyword(value) || isExactVersion(value)) return value;
  throw invalidExpectedVersion(value, where);
}

/**
 * `value` as an expected version, for what arrives as text or JSON (a header, a flag, a batch
 * item's field): what `validateExpectedVersion` takes, and also an exact version written as
 * decimal text. Text is checked before it becomes a number and quoted as sent when refused.
 * Throws `INVALID_ARGUMENT` naming `where`.
 */
export function parseExpectedVersion(value: unknown, where: string): ExpectedVersion {
  if (isKeyword(value) || isExactVersion(value)) return value;
  if (typeof value === 'string' && VERSION_TEXT.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw invalidExpectedVersion(value, where);
}

/** Whether a stream at `actual` (its last seq, 0 for no events) is as `expected` says. */
export function expectedVersionHolds(expected: ExpectedVersion, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 0;
  if (expected === 'exists') return actual > 0;
  return actual === expected;
}

/** The one `WRONG_EXPECTED_VERSION` error, with `data: { stream, expected, actual }`. */
export function expectedVersionConflict(stream: string, expected: ExpectedVersion, actual: number): ThaloError {
  const described = typeof expected === 'number' ? `version ${expected}` : `'${expected}'`;
  return new ThaloError('WRONG_EXPECTED_VERSION', `stream "${stream}" expected ${described}, but it is at version ${actual}`, {
    data: { stream, expected, actual },
  });
}

/** Throws `expectedVersionConflict` unless a stream at `actual` is as `expected` says. */
export function checkExpectedVersion(stream: string, expected: ExpectedVersion, actual: number): void {
  if (!expectedVersionHolds(expected, actual)) throw expectedVersionConflict(stream, expected, actual);
}
