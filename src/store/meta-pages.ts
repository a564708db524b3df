/**
 * Checking LMDB's two meta pages before LMDB opens the file, since the LMDB inside lmdb-js
 * 3.5.6 does not survive a damaged one: a meta page overwritten with garbage (either of the two),
 * or a single changed byte in its magic, version, page size or last page number, kills the
 * process with SIGSEGV inside `open()`, before anything can be logged (found by flipping each
 * byte of both meta pages of a store and opening it).
 *
 * Each meta page (page 0 and page 1) must be a meta page with LMDB's magic and data version, the
 * same power-of-two page size, a last page number that fits the map, and roots of the free-page
 * and main trees that are empty or point, within the file, at a branch or leaf page whose header
 * names that page number. The last test also catches a root pointer changed to another page,
 * which lmdb-js opened without complaint as an empty store.
 *
 * The layout (LMDB mdb.c as lmdb-js 3.5.6 builds it, with its 24-byte page header that holds a
 * txnid): page header { pgno u64, txnid u64, pad u16, flags u16, lower u16, upper u16 }, then
 * MDB_meta { magic u32, version u32, address u64, mapsize u64, dbs[2] (free, main) of
 * { pad u32 (the page size, in the free db's), flags u16, depth u16, branch, leaf and overflow
 * page counts u64, entries u64, root u64 }, last_pg u64, txnid u64 }. package.json pins lmdb
 * to that exact version, and the store tests open a fresh store through this check, so a
 * layout change fails there first.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { damaged } from './damage.js';

const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_META = 0x08;
/** LMDB's "no page": the root of an empty tree. */
const P_INVALID = 0xffffffffffffffffn;

const HEADER = { flags: 18 } as const;
const META = { magic: 24, version: 28, mapsize: 40, pageSize: 48, freeRoot: 88, mainRoot: 136, lastPage: 144, txnid: 152 } as const;
const DEFAULT_PAGE_SIZE = 4096;

/** What the meta pages say, for `thalo-runtime --verify`. */
export interface MetaPagesReport {
  /** One line per problem, e.g. "meta page 1: magic is 0xabababab, not 0xbeefc0de". Empty when sound. */
  problems: string[];
  pageSize: number;
  /** The txnid of each meta page (LMDB uses the larger). */
  txnids: [bigint, bigint];
}

/**
 * Reads and checks the meta pages of `<path>/data.mdb`; undefined when there is no such file yet
 * (a new store). Reads two pages and two roots: microseconds, so every open does it.
 */
export function inspectMetaPages(path: string): MetaPagesReport | undefined {
  const file = join(path, 'data.mdb');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const fileSize = fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => {
      const buffer = Buffer.alloc(length);
      if (offset + length <= fileSize) readSync(fd, buffer, 0, length, offset);
      return buffer;
    };
    const problems: string[] = [];
    if (fileSize === 0) return { problems, pageSize: DEFAULT_PAGE_SIZE, txnids: [0n, 0n] };
    const first = read(0, 256);
    const declared = first.readUInt32LE(META.pageSize);
    const pageSize = isPageSize(declared) ? declared : DEFAULT_PAGE_SIZE;
    if (fileSize < 2 * pageSize) problems.push(`data.mdb is ${fileSize} bytes, shorter than its two meta pages of ${pageSize}`);
    const metas = [first, read(pageSize, 256)];
    metas.forEach((meta, index) => {
      const say = (problem: string): void => void problems.push(`meta page ${index}: ${problem}`);
      if (!(meta.readUInt16LE(HEADER.flags) & P_META))
        say(`its page flags are 0x${meta.readUInt16LE(HEADER.flags).toString(16)}, not a meta page's`);
      const magic = meta.readUInt32LE(META.magic);
      if (magic !== MAGIC) return say(`magic is 0x${magic.toString(16)}, not 0x${MAGIC.toString(16)}`);
      const version = meta.readUInt32LE(META.version) & 0xffff;
      if (version !== DATA_VERSION) say(`data version is ${version}, not ${DATA_VERSION}`);
      const size = meta.readUInt32LE(META.pageSize);
      if (size !== pageSize) return say(`page size is ${size}, not ${pageSize} as in meta page 0`);
      const lastPage = meta.readBigUInt64LE(META.lastPage);
      const limit = BigInt(Math.max(fileSize, Number(meta.readBigUInt64LE(META.mapsize))));
      if ((lastPage + 1n) * BigInt(pageSize) > limit) say(`last page ${lastPage} is past the map (${limit} bytes)`);
      for (const [tree, offset] of [
        ['free-page', META.freeRoot],
        ['main', META.mainRoot],
      ] as const) {
        const root = meta.readBigUInt64LE(offset);
        if (root === P_INVALID) continue;
        const problem = checkRoot(root, lastPage, pageSize, fileSize, read);
        if (problem) say(`the ${tree} tree's root ${problem}`);
      }
    });
    return { problems, pageSize, txnids: [metas[0]!.readBigUInt64LE(META.txnid), metas[1]!.readBigUInt64LE(META.txnid)] };
  } finally {
    closeSync(fd);
  }
}

function checkRoot(
  root: bigint,
  lastPage: bigint,
  pageSize: number,
  fileSize: number,
  read: (offset: number, length: number) => Buffer,
): string | undefined {
  if (root < 2n || root > lastPage) return `page ${root} is not between 2 and the last page ${lastPage}`;
  const offset = Number(root) * pageSize;
  if (offset + pageSize > fileSize) return `page ${root} is past the end of the file`;
  const header = read(offset, 24);
  const pgno = header.readBigUInt64LE(0);
  const flags = header.readUInt16LE(HEADER.flags);
  if (pgno !== root) return `page ${root} holds page number ${pgno}`;
  if (!(flags & (P_BRANCH | P_LEAF))) return `page ${root} is not a branch or leaf page (flags 0x${flags.toString(16)})`;
  return undefined;
}

function isPageSize(n: number): boolean {
  return n >= 512 && n <= 65536 && (n & (n - 1)) === 0;
}

/**
 * Throws `STORE_CORRUPTED` when the meta pages of the store in `path` are damaged, so that the
 * open fails with a message instead of LMDB taking the process down.
 */
export function checkMetaPages(path: string): void {
  const report = inspectMetaPages(path);
  if (report === undefined || report.problems.length === 0) return;
  throw damaged(path, `its LMDB meta pages are damaged, so LMDB cannot open it: ${report.problems.join('; ')}`, {
    file: join(path, 'data.mdb'),
  });
}
