/**
 * The store's path is always a directory, whatever its name looks like; and the directory records
 * its layout's format, so a release refuses one written by a newer release.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { isThaloError } from '../../src/errors.js';
import { EventStore } from '../../src/store/index.js';
import { LMDB_FORMAT } from '../../src/store/databases.js';
import { verifyStore } from '../../src/store/verify.js';
import { event, tempDir } from './helpers.js';

/** The `format` record of the (closed) store in `path`; `set` writes it first, `drop` removes the database. */
async function formatRecord(path: string, change?: { set: number } | 'drop'): Promise<number | undefined> {
  const root = open({ path, maxDbs: 12 });
  try {
    const format = root.openDB<number, string>('format', { encoding: 'ordered-binary' });
    if (change === 'drop') await format.drop();
    else if (change) await format.put('version', change.set);
    return change === 'drop' ? undefined : format.get('version');
  } finally {
    await root.close();
  }
}

describe('the data directory', () => {
  it('is a directory also when its name has a dot (mktemp -d names, ./events.v2)', async () => {
    for (const name of ['tmp.Xyz12', 'events.v2', 'data.mdb']) {
      const path = join(tempDir(), name);
      const store = EventStore.open({ path });
      await store.append('order-1', [event('Placed', {})]);
      await store.close();
      expect(statSync(path).isDirectory()).toBe(true);
      expect(existsSync(join(path, 'data.mdb'))).toBe(true);
      const reopened = EventStore.open({ path });
      expect(reopened.lastPosition()).toBe(1);
      await reopened.close();
    }
  });

  it('records its format, and refuses a directory of a newer format without writing to it', async () => {
    const path = tempDir();
    const store = EventStore.open({ path });
    await store.append('order-1', [event('Placed', {})]);
    await store.close();
    expect(await formatRecord(path)).toBe(LMDB_FORMAT);

    await formatRecord(path, { set: LMDB_FORMAT + 1 });
    const before = readFileSync(join(path, 'data.mdb'));
    let error: unknown;
    try {
      EventStore.open({ path });
    } catch (thrown) {
      error = thrown;
    }
    expect(isThaloError(error, 'STORE_SCHEMA_UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toContain(`format ${LMDB_FORMAT + 1}; this release knows up to ${LMDB_FORMAT}`);
    expect((error as { data: unknown }).data).toEqual({ path, version: LMDB_FORMAT + 1, supported: LMDB_FORMAT });
    expect(readFileSync(join(path, 'data.mdb')).equals(before)).toBe(true);
    // The lock was given back: the directory can be opened again once it is understood.
    expect(existsSync(join(path, 'thalo.lock'))).toBe(false);
    const report = verifyStore(path);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `the event store in ${path} was written by a newer release of thalo-node (format ${LMDB_FORMAT + 1}; this release knows up to ${LMDB_FORMAT}); upgrade thalo-node to open it`,
    ]);
  });

  it('opens a directory written before the format was recorded, and records it', async () => {
    const path = tempDir();
    const store = EventStore.open({ path });
    await store.append('order-1', [event('Placed', {})]);
    await store.close();
    await formatRecord(path, 'drop');
    expect(verifyStore(path).ok).toBe(true);
    const reopened = EventStore.open({ path });
    expect(reopened.streamVersion('order-1')).toBe(1);
    await reopened.close();
    expect(await formatRecord(path)).toBe(LMDB_FORMAT);
  });
});
