/**
 * Damaging a store on disk the way a failing disk would, for the damage tests (store, CLI, HTTP).
 *
 * `writeMarkedLog` writes a log whose every event's data holds a unique marker, `MARK000123` for
 * position 123, in ONE transaction: LMDB writes each page of a transaction once, so no stale
 * copy of a marker is left in a freed page (appends in many transactions would leave copies of
 * pages behind, and damaging a copy would change nothing). The helpers find a marker's live
 * offset and damage the bytes around it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { EventStore } from '../../src/store/index.js';

/** The stream of the event at `position` in a marked log: `counter-c0` … `counter-c4`. */
export function streamOf(position: number): string {
  return `counter-c${position % 5}`;
}

export function markerOf(position: number): string {
  return `MARK${String(position).padStart(6, '0')}`;
}

/** Writes positions 1..count, each `{ marker, amount: 1 }` on `streamOf(position)`, with command id `cmd-<position>`. */
export async function writeMarkedLog(path: string, count: number): Promise<void> {
  const store = EventStore.open({ path });
  try {
    const requests = Array.from({ length: count }, (_, i) => ({
      stream: streamOf(i + 1),
      commandId: `cmd-${i + 1}`,
      events: [{ type: 'Incremented', data: pack({ marker: markerOf(i + 1), amount: 1 }) }],
    }));
    const outcomes = await store.appendBatch(requests);
    if (!outcomes.every((o, i) => o.ok && o.result.events[0]!.position === i + 1))
      throw new Error('the marked log was not written as planned');
  } finally {
    await store.close();
  }
}

function dataFile(path: string): string {
  return join(path, 'data.mdb');
}

/**
 * The offset of `position`'s marker in data.mdb, in the live part of a leaf page. LMDB leaves
 * stale bytes behind in a page's free gap (between the node pointers and the nodes) when it
 * splits a page, so a marker may also be found there; a page's live nodes lie from its `upper`
 * offset (page header: pgno u64, txnid u64, pad u16, flags u16, lower u16, upper u16) to its end.
 */
export function markerOffset(file: Buffer, position: number): number {
  const marker = markerOf(position);
  const size = pageSize(file);
  const live: number[] = [];
  for (let at = file.indexOf(marker); at >= 0; at = file.indexOf(marker, at + 1)) {
    const page = Math.floor(at / size) * size;
    const isLeaf = (file.readUInt16LE(page + 18) & 0x02) !== 0;
    if (isLeaf && at - page >= file.readUInt16LE(page + 22)) live.push(at);
  }
  if (live.length !== 1) throw new Error(`${marker} is live in data.mdb ${live.length} times`);
  return live[0]!;
}

/**
 * Changes the `amount` of `position`'s event from 1 to 9, one byte, as in the issue: msgpack
 * `{ marker, amount: 1 }` ends with the string "amount" and then the byte 0x01.
 */
export function flipAmount(path: string, position: number): void {
  const file = readFileSync(dataFile(path));
  const at = markerOffset(file, position);
  const amount = file.indexOf('amount', at) + 'amount'.length;
  if (file[amount] !== 0x01) throw new Error(`no amount 1 after ${markerOf(position)}`);
  file[amount] = 0x09;
  writeFileSync(dataFile(path), file);
}

/** LMDB's page size, from meta page 0. */
function pageSize(file: Buffer): number {
  return file.readUInt32LE(48);
}

/**
 * Overwrites the whole page that holds `position`'s event with garbage and returns the positions
 * whose events were on it (of 1..count), in order.
 */
export function garbagePage(path: string, position: number, count: number): number[] {
  const file = readFileSync(dataFile(path));
  const size = pageSize(file);
  const start = Math.floor(markerOffset(file, position) / size) * size;
  const onPage: number[] = [];
  for (let p = 1; p <= count; p++) {
    const at = markerOffset(file, p);
    if (at >= start && at < start + size) onPage.push(p);
  }
  for (let i = start; i < start + size; i++) file[i] = (i * 7919 + 13) & 0xff;
  writeFileSync(dataFile(path), file);
  return onPage;
}

/** Overwrites both LMDB meta pages (offsets 0 and the page size) with 0xAB. */
export function garbageMetaPages(path: string): void {
  const file = readFileSync(dataFile(path));
  file.fill(0xab, 0, 2 * pageSize(file));
  writeFileSync(dataFile(path), file);
}
