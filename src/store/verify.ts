/**
 * `thalo-runtime --verify`: scans a store and reports every damaged position, and what else is
 * damaged (meta pages, heads, the stream index, snapshots).
 *
 * It reads positions 1 to the last one by one, checking each event as every read does
 * (event-reads.ts: checksum, decode, key = position, none missing) and each stream's chain
 * (`previous` is the position of the stream's event before it, and seqs follow on). Each read is
 * a `get` that walks down from the root, so a broken page costs the positions on it and no
 * others, and the scan goes on past it. Then, for each stream it saw, it reads the stream's head,
 * its index entries (every STREAM_INDEX_EVERY-th seq) and its snapshot by key, and checks them
 * against the events. Nothing is read with a cursor (see event-reads.ts, `readEvents`), except
 * the one step that finds the last position.
 *
 * It opens the store read-only and takes no lock: LMDB readers never block the writer, so it can
 * run next to the runtime, and it sees the log as of the moment it started. While it runs, LMDB
 * cannot reuse the pages the runtime frees, so the file may grow by what is written meanwhile.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isThaloError } from '../errors.js';
import { DamagedRecord } from './checksum.js';
import { describeFailure } from './damage.js';
import { openDatabases } from './databases.js';
import type { StoreDatabases } from './databases.js';
import { readEvent, readLastPosition } from './event-reads.js';
import { inspectMetaPages } from './meta-pages.js';
import { isIndexed, storedHead } from './stream-index.js';
import type { StoredEvent } from './types.js';

/** Damaged positions `from` to `to` (inclusive), all with the same kind of problem. */
export interface DamagedRange {
  from: number;
  to: number;
  /** What is wrong with the first of them, e.g. "checksum mismatch (…)". */
  problem: string;
}

export interface VerifyReport {
  path: string;
  /** The last position as the store says (0 when it could not be read, or the log is empty). */
  lastPosition: number;
  /** Positions checked (1 to `lastPosition`, or as far as the scan got). */
  checked: number;
  /** Damaged positions, consecutive ones with the same kind of problem as one range. */
  damaged: DamagedRange[];
  /** Damage not at a position: meta pages, heads, index entries, snapshots, a store LMDB cannot open. */
  problems: string[];
  ok: boolean;
}

/** Scans the store in `path`. Throws only when there is no store there. */
export function verifyStore(path: string): VerifyReport {
  if (!existsSync(join(path, 'data.mdb'))) throw new Error(`there is no event store in ${path} (no data.mdb)`);
  const report: VerifyReport = { path, lastPosition: 0, checked: 0, damaged: [], problems: [], ok: false };
  const meta = inspectMetaPages(path);
  if (meta && meta.problems.length > 0) {
    // LMDB would crash opening it (see meta-pages.ts): report and stop.
    report.problems.push(...meta.problems.map((p) => `LMDB meta pages: ${p}`));
    return report;
  }
  let dbs: StoreDatabases;
  try {
    dbs = openDatabases(path, { readOnly: true });
  } catch (error) {
    // A newer release's layout (databases.ts, LMDB_FORMAT) is not this code's to judge.
    report.problems.push(
      isThaloError(error, 'STORE_SCHEMA_UNSUPPORTED') ? error.message : `LMDB cannot open the store: ${describeFailure(error)}`,
    );
    return report;
  }
  try {
    new Scan(dbs, report).run();
  } finally {
    void dbs.root.close();
  }
  report.ok = report.damaged.length === 0 && report.problems.length === 0;
  return report;
}

class Scan {
  private readonly damagedPositions = new Map<number, string>();
  /** Each stream's last event seen: its seq and position. */
  private readonly streams = new Map<string, { seq: number; position: number }>();
  /** Each stream's events that must have an index entry (stream-index.ts): seq -> position. */
  private readonly indexed = new Map<string, Map<number, number>>();

  constructor(
    private readonly dbs: StoreDatabases,
    private readonly report: VerifyReport,
  ) {}

  run(): void {
    let last: number;
    try {
      last = readLastPosition(this.dbs);
    } catch (error) {
      this.report.problems.push(`the last position cannot be read: ${describeFailure(error)}`);
      this.dbs.root.resetReadTxn();
      return;
    }
    this.report.lastPosition = last;
    for (let position = 1; position <= last; position++) this.check(position);
    this.report.checked = last;
    this.report.damaged = mergeRanges([...this.damagedPositions].sort((a, b) => a[0] - b[0]));
    this.checkStreams();
  }

  /** Reads one position as every read does (event-reads.ts); records it when damaged. */
  private check(position: number): void {
    let event: StoredEvent | undefined;
    try {
      event = readEvent(this.dbs, position);
    } catch (error) {
      if (!isThaloError(error, 'STORE_CORRUPTED')) throw error;
      // LMDB fails the rest of a read transaction after an error: start a new one.
      this.dbs.root.resetReadTxn();
      this.damagedPositions.set(position, problemOf(error.message));
      return;
    }
    if (event === undefined) this.damagedPositions.set(position, 'missing: the log has no event there');
    else this.visit(event);
  }

  /** Checks `event` against its stream's chain so far. */
  private visit(event: StoredEvent): void {
    const before = this.streams.get(event.stream) ?? { seq: 0, position: 0 };
    this.streams.set(event.stream, { seq: event.seq, position: event.position });
    if (isIndexed(event.seq)) {
      let entries = this.indexed.get(event.stream);
      if (entries === undefined) this.indexed.set(event.stream, (entries = new Map()));
      entries.set(event.seq, event.position);
    }
    const name = `stream "${event.stream}" seq ${event.seq}`;
    if (event.previous !== undefined && event.previous !== before.position) {
      // Chained through a damaged event: that one is reported already.
      if (this.damagedPositions.has(event.previous)) return;
      this.damagedPositions.set(
        event.position,
        `${name} chains to position ${event.previous}, but the stream's event before it is at ${before.position || 'none'}`,
      );
    } else if (event.seq !== before.seq + 1 && (event.previous !== undefined || this.damagedPositions.size === 0)) {
      this.damagedPositions.set(event.position, `${name} follows seq ${before.seq} (at position ${before.position})`);
    }
  }

  /**
   * The heads, index entries and snapshots of the streams the scan saw, each read by key (a
   * `get`: see event-reads.ts for why not a cursor). Each must agree with the events.
   */
  private checkStreams(): void {
    for (const [stream, seen] of this.streams) {
      const problem = (text: string): void => void this.report.problems.push(`stream "${stream}": ${text}`);
      const head = this.get(`the head of stream "${stream}"`, () => storedHead(this.dbs, stream));
      if (head.failed) continue;
      const [seq, position] =
        typeof head.value === 'number' ? [head.value, undefined] : Array.isArray(head.value) ? head.value : [undefined, undefined];
      const headMatches = seen.seq === seq && (position === undefined || seen.position === position);
      // Its last event may be damaged (and listed): the head then points past the last one read.
      if (!headMatches && !(position !== undefined && this.damagedPositions.has(position))) {
        const says =
          head.value === undefined
            ? 'it has no head'
            : `its head says ${position === undefined ? `seq ${seq}` : `seq ${seq} at position ${position}`}`;
        problem(`${says}, but its last event is seq ${seen.seq} at position ${seen.position}`);
      }
      for (const [indexedSeq, at] of this.indexed.get(stream) ?? []) {
        const entry = this.get(`the index entry of stream "${stream}" for seq ${indexedSeq}`, () =>
          this.dbs.streams.get([stream, indexedSeq]),
        );
        if (!entry.failed && entry.value !== at)
          problem(`its index entry for seq ${indexedSeq} says position ${String(entry.value)}, but that seq is at ${at}`);
      }
      const snapshot = this.get(`the snapshot of stream "${stream}"`, () => this.dbs.snapshots.get(stream) as unknown);
      if (snapshot.value instanceof DamagedRecord) {
        problem(`its snapshot is damaged (${snapshot.value.problem}); it is ignored, and the stream rebuilt from its events`);
      } else if (snapshot.value !== undefined && !((snapshot.value as { seq?: number }).seq! <= seen.seq)) {
        problem(`its snapshot is at seq ${String((snapshot.value as { seq?: number }).seq)}, past its last event (seq ${seen.seq})`);
      }
    }
  }

  /** `read()`, with a failure recorded as a problem of `what`. */
  private get<T>(what: string, read: () => T): { value?: T; failed: boolean } {
    try {
      return { value: read(), failed: false };
    } catch (error) {
      this.dbs.root.resetReadTxn();
      this.report.problems.push(`reading ${what} failed: ${describeFailure(error)}`);
      return { failed: true };
    }
  }
}

/** The part of a STORE_CORRUPTED message after "damaged at position N: ". */
function problemOf(message: string): string {
  const match = /damaged(?: at position \d+)?: (.*)$/s.exec(message);
  return match ? match[1]! : message;
}

/** Consecutive positions whose problems differ only in numbers become one range. */
function mergeRanges(entries: [number, string][]): DamagedRange[] {
  const out: DamagedRange[] = [];
  const kind = (problem: string): string => problem.replace(/0x[0-9a-f]+|\d+/g, '#');
  for (const [position, problem] of entries) {
    const previous = out[out.length - 1];
    if (previous && previous.to === position - 1 && kind(previous.problem) === kind(problem)) previous.to = position;
    else out.push({ from: position, to: position, problem });
  }
  return out;
}
