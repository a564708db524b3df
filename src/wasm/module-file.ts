/**
 * Reading a module file without trusting what the directory holds.
 *
 * A modules directory may hold anything named `*.wasm`: a FIFO (a plain read waits for a writer
 * that never comes, and holds one of libuv's four file-system threads while it waits, so a few of
 * them stall every later read, upload included), a symlink to `/dev/zero` (a read that never
 * ends), a directory, or a file far larger than any module. So the file is opened with
 * `O_NONBLOCK` (opening a FIFO then returns at once instead of waiting for a writer), checked with
 * `fstat` on the open descriptor (the thing actually opened, not whatever the name points to a
 * moment later), and read only when it is a regular file within `maxBytes`. A symlink to a regular
 * file is fine: `open` follows it, and `fstat` sees the file.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { ThaloError } from '../errors.js';

/** The largest module file read, in bytes: the size of the largest module upload. */
export const MAX_MODULE_BYTES = 64 * 1024 * 1024;

/** What a module file turned out to be when it is not one (`fstat`'s file types). */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of `file`, which must be a regular file (or a symlink to one) of at most `maxBytes`.
 * Anything else is refused with `MODULE_INVALID` naming the file and what it is; a file that
 * does not exist with `MODULE_INVALID` whose `cause` has the `ENOENT` code.
 *
 * @example
 *   const bytes = await readModuleFile('modules/counter.wasm');
 */
export async function readModuleFile(file: string, maxBytes = MAX_MODULE_BYTES): Promise<Buffer> {
  const refuse = (problem: string, cause?: unknown, data: Record<string, unknown> = {}) =>
    new ThaloError('MODULE_INVALID', `${file}: ${problem}`, { data: { file, ...data }, cause });
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw refuse(`cannot be read (${(error as Error).message})`, error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refuse(`is ${kindOf(stats)}, not a regular file: only regular files are loaded`);
    if (stats.size > maxBytes)
      throw refuse(`is ${stats.size} bytes; the largest module is ${maxBytes} bytes`, undefined, { size: stats.size, limit: maxBytes });
    // Room for one byte more than `fstat` said: a file still being written is caught, not cut.
    const buffer = Buffer.allocUnsafe(stats.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stats.size) throw refuse(`grew while it was read (it had ${stats.size} bytes when opened)`);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof ThaloError) throw error;
    throw refuse(`cannot be read (${(error as Error).message})`, error);
  } finally {
    await handle.close();
  }
}

/** True when `error` says the file does not exist (it was removed since it was listed). */
export function isMissingFile(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'ENOENT';
}
