/**
 * `STORE_CORRUPTED`, the error of a store whose bytes on disk are not what it wrote: a checksum
 * that fails, a record that does not decode or sits under the wrong key, a missing position, or
 * LMDB finding its own pages broken. See docs/store.md, "Damage".
 */
import { ThaloError, isThaloError } from '../errors.js';

/** `STORE_CORRUPTED` for damage at `position` of the log. */
export function damagedAt(path: string, position: number, problem: string, cause?: unknown): ThaloError {
  return new ThaloError('STORE_CORRUPTED', `the event store in ${path} is damaged at position ${position}: ${problem}`, {
    data: { position, path },
    cause,
  });
}

/** `STORE_CORRUPTED` for damage found elsewhere than at a position (a meta page, a stream's head or index). */
export function damaged(path: string, problem: string, data: Record<string, unknown> = {}, cause?: unknown): ThaloError {
  return new ThaloError('STORE_CORRUPTED', `the event store in ${path} is damaged: ${problem}`, { data: { ...data, path }, cause });
}

/**
 * Whether `error`, thrown by lmdb-js or msgpackr while reading, says the stored bytes are bad.
 * Not: our own errors, a closed environment, or LMDB running out of reader slots or map space.
 */
export function isReadFailure(error: unknown): boolean {
  if (isThaloError(error)) return false;
  return !/closed|MDB_READERS_FULL|MDB_MAP_RESIZED|MDB_MAP_FULL/i.test(describeFailure(error));
}

/** The message of any thrown value. */
export function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
