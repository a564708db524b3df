/**
 * The writer lock of a data directory: `<dir>/thalo.lock`, a small JSON file naming the process
 * that holds it. One process writes a directory; its worker threads share the lock by opening
 * the store with `lock: false`.
 *
 * LMDB itself would let several processes write at once (it serialises their transactions), so
 * this is a policy, not a safety net for LMDB: two runtimes on one directory would each believe
 * they own every aggregate and cache state the other one invalidates.
 *
 * Why not flock: Node has no flock, and a native module for it is a dependency for one syscall.
 * A pid file can go stale when its process dies without closing, so a lock whose process is gone
 * is taken over; the start time of the process is recorded too, so that a pid reused by another
 * process (common in containers, where the runtime is often pid 1 on every start) is not taken
 * for the holder.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ThaloError } from '../errors.js';

export const LOCK_FILE = 'thalo.lock';

/** What the lock file says. `start` is the holder's start time (Linux clock ticks since boot), when known. */
export interface LockHolder {
  pid: number;
  start: string | null;
  token: string;
}

const OWN_START = processStart(process.pid);

export class DirectoryLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly holder: LockHolder,
  ) {}

  /**
   * Takes the lock of `dir` or throws `STORE_LOCKED` naming the holder's pid.
   *
   * Creating: the content is written to a private file first and then hard-linked to the lock
   * name. `link` fails with EEXIST when the name exists, like an `O_EXCL` create, and unlike one
   * it never shows a half-written file to another process reading it at that moment.
   *
   * Taking over a dead holder's lock: rename it to a private name (of two processes doing so at
   * once only one rename succeeds), then check it was still the file we judged dead (same inode):
   * if a live lock was created there in between, put it back with `link`, which fails rather
   * than overwrite a newer lock. Only a three-way race at that instant can still go wrong.
   */
  static acquire(dir: string): DirectoryLock {
    const path = join(dir, LOCK_FILE);
    const holder: LockHolder = { pid: process.pid, start: OWN_START, token: randomUUID() };
    const draft = `${path}.${process.pid}.${holder.token}`;
    writeFileSync(draft, `${JSON.stringify(holder)}\n`);
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          linkSync(draft, path);
          return new DirectoryLock(path, holder);
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw error;
        }
        const current = readHolder(path);
        if (current === undefined) continue; // removed meanwhile: try again
        if (current.holder !== undefined && isAlive(current.holder)) {
          const { pid } = current.holder;
          const who = pid === process.pid ? `this process (pid ${pid})` : `process ${pid}`;
          throw new ThaloError(
            'STORE_LOCKED',
            `the data directory ${dir} is locked by ${who}: only one process may write it (lock file ${path})`,
            {
              data: { pid, path: dir },
            },
          );
        }
        takeOver(path, current.inode, `${path}.stale.${holder.token}`);
      }
      throw new ThaloError('STORE_LOCKED', `could not take the lock of ${dir}: ${path} keeps changing`, { data: { pid: null, path: dir } });
    } finally {
      unlinkQuietly(draft);
    }
  }

  /** Removes the lock file, if it is still ours (it may have been taken over as stale). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (readHolder(this.path)?.holder?.token === this.holder.token) unlinkQuietly(this.path);
  }
}

function takeOver(path: string, inode: number, aside: string): void {
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // someone else moved it first
    throw error;
  }
  if (statSync(aside).ino !== inode) {
    // Not the stale file any more: a live holder's. Put it back unless yet another one exists.
    try {
      linkSync(aside, path);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  unlinkQuietly(aside);
}

/** The lock file's holder (undefined when unreadable: a foreign or damaged file counts as stale). */
function readHolder(path: string): { holder: LockHolder | undefined; inode: number } | undefined {
  let text: string;
  let inode: number;
  try {
    inode = statSync(path).ino;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0 && typeof parsed.token === 'string') {
      return { holder: { pid: parsed.pid, start: typeof parsed.start === 'string' ? parsed.start : null, token: parsed.token }, inode };
    }
  } catch {
    // fall through: not ours
  }
  return { holder: undefined, inode };
}

function isAlive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return holder.start === null || OWN_START === null || holder.start === OWN_START;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if (errorCode(error) !== 'EPERM') return false;
  }
  if (holder.start === null || OWN_START === null) return true;
  // A different start time (or none: it exited meanwhile) means the pid now names another process.
  return processStart(holder.pid) === holder.start;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null where there is no /proc. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
