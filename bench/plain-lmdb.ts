/**
 * The yardstick of `npm run bench`: a single-thread loop of plain lmdb-js that does exactly the
 * store's writes for a counter command (src/store/append-transaction.ts: read the stream's head,
 * put the event envelope under its position with the store's record encoding and checksum, the
 * sparse stream index every 32nd seq, the new head), and nothing else: no wasm, no worker hop, no
 * validation. Each command is one `transaction()` callback; lmdb-js commits the callbacks queued
 * in one turn of the event loop in one LMDB transaction, synced like the store's (the environment
 * is opened by the store's own `openDatabases`, `overlappingSync: false`).
 *
 * The engine has to do all of this plus the rest, so the ratio engine / plain loop says how much
 * the engine's batching and threads win (or lose) over the simplest durable program on this disk.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { openDatabases, putEvent } from '../src/store/databases.js';
import type { StoredEvent } from '../src/store/types.js';
import { isIndexed, readHead } from '../src/store/stream-index.js';
import { readLastPosition } from '../src/store/event-reads.js';
import type { RunResult } from './machine.js';
import { closedLoopOf } from './machine.js';

/** The counter guest's `Incremented { amount: 1 }`, as msgpack (the engine stores the guest's bytes). */
const DATA = pack({ amount: 1 });

/** Runs `total` counter commands through plain lmdb-js writes, `inFlight` outstanding at a time. */
export async function plainLoop(total: number, inFlight: number, idOf: (i: number) => string): Promise<RunResult> {
  const path = mkdtempSync(join(tmpdir(), 'thalo-bench-plain-'));
  const dbs = openDatabases(path);
  try {
    let last = readLastPosition(dbs);
    const command = (stream: string): Promise<unknown> =>
      dbs.root.transaction(() => {
        const head = readHead(dbs, stream);
        const position = ++last;
        const seq = head.seq + 1;
        const event: StoredEvent = {
          position,
          stream,
          seq,
          id: randomUUID(),
          type: 'Incremented',
          data: DATA,
          timestamp: Date.now(),
          metadata: {},
          previous: head.position,
        };
        putEvent(dbs.events, event);
        if (isIndexed(seq)) dbs.streams.put([stream, seq], position);
        dbs.heads.put(stream, [seq, position]);
      });
    // Warm up as the engine's run does: 2,000 commands on other streams.
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => command(`counter-warm-${i}`)));
    return await closedLoopOf((i) => command(`counter-${idOf(i)}`), 'plain loop', total, inFlight);
  } finally {
    await dbs.root.close();
    rmSync(path, { recursive: true, force: true });
  }
}
