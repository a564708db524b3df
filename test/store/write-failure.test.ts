/**
 * How a failed commit is named. lmdb-js rejects the write with an opaque "Commit failed" whose
 * real error sits in `commitError`, a promise that lmdb-js never handles; these build that shape.
 * (The real thing, on a full tmpfs, is test/server/disk-full.test.ts.)
 */
import { constants, tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { writeFailure } from '../../src/store/write-failure.js';

/** lmdb-js's shape of a failed commit whose real error has `code`. */
function commitFailed(code: number | undefined): Error {
  const error = new Error('Commit failed (see commitError for details)') as Error & { commitError: Promise<never> };
  const cause = Object.assign(new Error('the real one'), code === undefined ? {} : { code });
  // Rejected now, handled only by writeFailure: vitest fails the file on an unhandled rejection.
  error.commitError = Promise.reject(cause);
  return error;
}

const PATH = tmpdir();

describe('writeFailure', () => {
  it('names ENOSPC, EDQUOT and MDB_MAP_FULL STORE_FULL, with the data directory', async () => {
    for (const code of [constants.errno.ENOSPC, constants.errno.EDQUOT, -30792]) {
      const error = await writeFailure(commitFailed(code), PATH);
      expect(error.code).toBe('STORE_FULL');
      expect(error.message).toContain(PATH);
      expect(error.message).toContain(`code ${code}`);
      expect(error.data).toEqual({ path: PATH });
    }
  });

  it('names an EIO on a file system with room STORE_WRITE_FAILED (a short write on a full one is STORE_FULL)', async () => {
    const error = await writeFailure(commitFailed(constants.errno.EIO), PATH);
    expect(error.code).toBe('STORE_WRITE_FAILED');
    expect(error.message).toContain('the real one');
  });

  it('names any other failure STORE_WRITE_FAILED, also without a commitError', async () => {
    const panic = await writeFailure(commitFailed(-30795), PATH);
    expect(panic.code).toBe('STORE_WRITE_FAILED');
    expect(panic.message).toContain('restart the process');
    expect((await writeFailure(new Error('The database has been closed'), PATH)).code).toBe('STORE_WRITE_FAILED');
  });

  it('does not wait for a commitError that never settles', async () => {
    const error = Object.assign(new Error('Commit failed (see commitError for details)'), { commitError: new Promise(() => undefined) });
    expect((await writeFailure(error, PATH)).message).toContain('Commit failed');
  });
});
