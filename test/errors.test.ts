import { describe, expect, it } from 'vitest';
import { ThaloError, deserializeError, isThaloError, serializeError } from '../src/errors.js';

describe('errors', () => {
  it('keeps code, message and data across serialization', () => {
    const original = new ThaloError('WRONG_EXPECTED_VERSION', 'stream s: expected 1, actual 2', {
      data: { expected: 1, actual: 2 },
    });
    const copy = deserializeError(structuredClone(serializeError(original)));
    expect(copy).toBeInstanceOf(ThaloError);
    expect(copy.code).toBe('WRONG_EXPECTED_VERSION');
    expect(copy.message).toBe(original.message);
    expect(copy.data).toEqual({ expected: 1, actual: 2 });
    expect(isThaloError(copy, 'WRONG_EXPECTED_VERSION')).toBe(true);
    expect(isThaloError(copy, 'STORE_LOCKED')).toBe(false);
  });

  it('turns unknown errors into INTERNAL', () => {
    expect(serializeError(new TypeError('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
    expect(isThaloError(new Error('plain'))).toBe(false);
  });
});
