/**
 * What a failed LMDB commit means for the caller: `STORE_FULL` when the data directory has no room
 * (the disk, a quota, or LMDB's map), `STORE_WRITE_FAILED` for any other failure. Either way
 * LMDB aborted the transaction, so nothing of it was written.
 *
 * lmdb-js rejects every write of a failed transaction with the same opaque
 * `Error('Commit failed (see commitError for details)')` and puts the real error (with LMDB's or
 * the OS's code) in `error.commitError`, a separate rejected promise that lmdb-js itself never
 * handles: unless someone attaches to it, Node reports it as an unhandled rejection, which ends a
 * worker thread (and under `--unhandled-rejections=throw`, the default, the main process too).
 * So every failed commit passes through `writeFailure`, which attaches to it first.
 */
import { statfsSync } from 'node:fs';
import { constants } from 'node:os';
import { ThaloError } from '../errors.js';

/** LMDB's "environment mapsize limit reached" (lmdb.h). lmdb-js grows the map itself; kept in case it cannot. */
const MDB_MAP_FULL = -30792;
/**
 * LMDB's "update of meta page failed or environment had fatal error" (lmdb.h): after a failed meta
 * page write (mdb_env_write_meta) every later transaction fails until the environment is closed.
 * Not seen on ext4 or tmpfs, which overwrite the meta pages in place; possible where an overwrite
 * needs room (copy-on-write file systems).
 */
const MDB_PANIC = -30795;

/**
 * Below this many free bytes, an EIO from a commit is taken for a full disk. LMDB reports a short
 * write as EIO (mdb_page_flush: "Use which error code?"), and a file system that runs out of room
 * in the middle of a write writes what fits and returns short; the disk is then full to the last
 * block. A real I/O fault on a disk with more room stays STORE_WRITE_FAILED.
 */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** Codes that always mean "no room". */
const { ENOSPC, EDQUOT, EIO } = constants.errno;
const NO_SPACE = new Set<number>([ENOSPC, EDQUOT, MDB_MAP_FULL]);

/**
 * The `ThaloError` for `error`, a failed commit of the store in `path`. Never rejects, and never
 * waits for more than the rest of the current turn: lmdb-js settles `commitError` in the same
 * callback that fails the transaction, so it is settled by the time the caller sees the failure.
 */
export async function writeFailure(error: unknown, path: string): Promise<ThaloError> {
  const cause = await commitCause(error);
  const code = (cause as { code?: unknown } | undefined)?.code;
  const reason = describe(cause);
  if (isNoSpace(code, path)) {
    return new ThaloError(
      'STORE_FULL',
      `the event store in ${path} is full (${reason}): nothing of this write was stored; reads go on, writes succeed again once there is room`,
      {
        data: { path },
        cause,
      },
    );
  }
  const restart = code === MDB_PANIC ? '; LMDB refuses every transaction from now on: restart the process' : '';
  return new ThaloError('STORE_WRITE_FAILED', `event store write in ${path} failed: ${reason}${restart}`, { data: { path }, cause });
}

/** The error behind lmdb-js's "Commit failed", or `error` itself. Handles `commitError`'s rejection. */
async function commitCause(error: unknown): Promise<unknown> {
  const pending = (error as { commitError?: unknown } | null)?.commitError;
  if (!isThenable(pending)) return error;
  const settled = Promise.resolve(pending).then(
    () => error,
    (cause: unknown) => cause,
  );
  // Should lmdb-js ever leave it pending, answer with the wrapper rather than hang the write.
  const nextTurn = new Promise<unknown>((resolve) => setImmediate(() => resolve(error)));
  return Promise.race([settled, nextTurn]);
}

function isNoSpace(code: unknown, path: string): boolean {
  if (typeof code !== 'number') return false;
  if (NO_SPACE.has(code)) return true;
  if (code !== EIO) return false;
  try {
    const fs = statfsSync(path);
    return fs.bavail * fs.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return code === undefined ? error.message : `${error.message}, code ${String(code)}`;
}
