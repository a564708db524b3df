/** The stream-name rules (docs/store.md), as a pure function. */
import { describe, expect, it } from 'vitest';
import { MAX_STREAM_NAME_BYTES, validateStreamName } from '../../src/store/index.js';
import { isThaloError } from '../../src/errors.js';

function problemOf(name: unknown): string | undefined {
  try {
    validateStreamName(name);
    return undefined;
  } catch (error) {
    expect(isThaloError(error, 'INVALID_STREAM_NAME')).toBe(true);
    return (error as Error).message;
  }
}

describe('validateStreamName', () => {
  it('accepts ordinary names, any script, up to the byte limit', () => {
    for (const ok of [
      'counter-1',
      'order/2024/17',
      'Ünïcödé',
      '計数器-1',
      'emoji-😀',
      ' spaces are fine ',
      'a'.repeat(MAX_STREAM_NAME_BYTES),
    ]) {
      expect(problemOf(ok), ok).toBeUndefined();
    }
  });

  it('refuses a non-string or empty name', () => {
    expect(problemOf(undefined)).toContain('must be a string');
    expect(problemOf(7)).toContain('must be a string');
    expect(problemOf('')).toContain('must not be empty');
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    expect(problemOf('a'.repeat(MAX_STREAM_NAME_BYTES + 1))).toContain('257 bytes');
    expect(problemOf('é'.repeat(128))).toBeUndefined(); // 256 bytes
    expect(problemOf('é'.repeat(129))).toContain('258 bytes');
    expect(problemOf('😀'.repeat(64))).toBeUndefined(); // 4 bytes each
    expect(problemOf('😀'.repeat(65))).toContain('260 bytes');
  });

  it('refuses C0, DEL and C1 control characters, naming the character and where', () => {
    expect(problemOf('a\u0000b')).toContain('U+0000 at index 1');
    expect(problemOf('line\nbreak')).toContain('U+000A at index 4');
    expect(problemOf('x\u007f')).toContain('U+007F');
    expect(problemOf('x\u0080')).toContain('U+0080');
    expect(problemOf('x\u009f')).toContain('U+009F');
    expect(problemOf('x\u00a0')).toBeUndefined(); // no-break space is not a control character
  });

  it('refuses lone surrogates (no UTF-8 form)', () => {
    expect(problemOf('a\ud800')).toContain('lone surrogate U+D800 at index 1');
    expect(problemOf('\udc00a')).toContain('lone surrogate U+DC00 at index 0');
    expect(problemOf('\ud83d\ude00')).toBeUndefined(); // a proper pair
  });
});
