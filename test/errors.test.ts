import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ApiClientError } from '../src/client/index.js';
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

  it("recognises a brand, not a shape: Node's ENOENT and the HTTP client's errors are not ThaloErrors", async () => {
    const enoent = await readFile('/no/such/thalo/file').catch((error: unknown) => error);
    expect((enoent as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(isThaloError(enoent)).toBe(false);
    expect(serializeError(enoent)).toMatchObject({ code: 'INTERNAL' });
    expect(isThaloError({ code: 'WRONG_EXPECTED_VERSION', message: 'a plain object' }, 'WRONG_EXPECTED_VERSION')).toBe(false);
    // A refusal read over HTTP is the client's own class, checked with instanceof and its code.
    expect(isThaloError(new ApiClientError(409, 'WRONG_EXPECTED_VERSION', 'conflict'))).toBe(false);
    // The brand stays out of what is shown and sent.
    const error = new ThaloError('INTERNAL', 'x');
    expect(Object.getOwnPropertySymbols({ ...error })).toEqual([]);
    expect(JSON.stringify(error)).toBe('{"code":"INTERNAL","message":"x"}');
  });

  it('recognises an error made by a second copy of the module (dist/ beside the source)', async () => {
    const built = new URL('../dist/src/errors.js', import.meta.url);
    if (!existsSync(built)) return; // npm run build writes it; npm test builds first
    const other = (await import(built.href)) as typeof import('../src/errors.js');
    expect(other.ThaloError).not.toBe(ThaloError);
    expect(isThaloError(new other.ThaloError('STORE_LOCKED', 'held'), 'STORE_LOCKED')).toBe(true);
    expect(other.isThaloError(new ThaloError('STORE_LOCKED', 'held'), 'STORE_LOCKED')).toBe(true);
  });
});
