/**
 * The yardstick of `npm run bench`: a single-thread loop of plain lmdb-js that does exactly the
 * store's writes for a counter command (src/store/append-transaction.ts: read the stream's head,
 * put the event envelope under its position with the store's record encoding and checksum, the
 * sparse stream index every 32nd seq, the new head, and the fold of old heads), and nothing
 * else: no wasm, no worker hop, no validation. Each command is one `transaction()` callback;
 * lmdb-js commits the callbacks queued in one turn of the event loop in one LMDB transaction,
 * synced like the store's (the environment is opened by the store's own `openDatabases`,
 * `overlappingSync: false`).
 *
 * The engine has to do all of this plus the rest, so the ratio engine / plain loop says how much
 * the engine's batching and threads win (or lose) over the simplest durable program on this disk.
 *
 * The loop also times its callbacks: the µs per command spent inside the write transaction.
 * LMDB lets one writer in at a time, and the engine's workers do these same writes inside the
 * same one transaction at a time, so 1e6 / that figure bounds the commands/s of any number of
 * workers from above (the commit's own writes and sync, also under the lock, come on top).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { openDatabases, putEvent } from '../src/store/databases.js';
import type { StoredEvent } from '../src/store/types.js';
import { foldRecentHeads, isIndexed, readHead, writeHead } from '../src/store/stream-index.js';
import { readLastPosition } from '../src/store/event-reads.js';
import type { RunResult } from './machine.js';
import { WARM_UP_COMMANDS, closedLoopOf, warmUp } from './machine.js';

/** Commands between two folds of old heads (about the engine's commits at 2,000 in flight). */
const FOLD_EVERY = 512;

/** The counter guest's `Incremented { amount: 1 }`, as msgpack (the engine stores the guest's bytes). */
const DATA = pack({ amount: 1 });

/**
 * Runs `total` counter commands through plain lmdb-js writes, `inFlight` outstanding at a time,
 * after `warmUpCommands` of the same load on other streams (see WARM_UP_COMMANDS).
 */
export async function plainLoop(
  total: number,
  inFlight: number,
  idOf: (i: number) => string,
  warmUpCommands = WARM_UP_COMMANDS,
): Promise<RunResult & { inTransactionUs: number }> {
  const path = mkdtempSync(join(tmpdir(), 'thalo-bench-plain-'));
  const dbs = openDatabases(path);
  try {
    let last = readLastPosition(dbs);
    let written = 0;
    let inTransaction = 0;
    const command = (stream: string): Promise<unknown> =>
      dbs.root.transaction(() => {
        const entered = performance.now();
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
        writeHead(dbs, stream, seq, position);
        // The store folds old heads once per transaction, reading twice its appends: here once
        // per FOLD_EVERY commands, as one range read like the store's (one per command would pay
        // a cursor each time, which the store does not).
        if (++written % FOLD_EVERY === 0) foldRecentHeads(dbs, position, 2 * FOLD_EVERY);
        inTransaction += performance.now() - entered;
      });
    // Warm up as the engine's runs do: 2,000 streams as the engine starts, then the same load on others.
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => command(`counter-warm-${i}`)));
    await warmUp((i) => command(`counter-warm-${idOf(i)}`), inFlight, warmUpCommands);
    inTransaction = 0;
    const result = await closedLoopOf((i) => command(`counter-${idOf(i)}`), 'plain loop', total, inFlight);
    return { ...result, inTransactionUs: (inTransaction * 1000) / total };
  } finally {
    await dbs.root.close();
    rmSync(path, { recursive: true, force: true });
  }
}
