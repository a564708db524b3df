/**
 * One writer process per data directory (design invariant 5): `<dir>/thalo.lock`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import { nextMessage, startChild } from './fixtures/child-process.js';
import { event, expectCode, onCleanup, openStore, tempDir } from './helpers.js';

type Message =
  | { type: 'locked'; pid: number }
  | { type: 'opened' }
  | { type: 'refused'; code: string; data: { pid: number; path: string }; message: string };

function lockHolder(path: string): { pid: number } {
  return JSON.parse(readFileSync(join(path, 'thalo.lock'), 'utf8')) as { pid: number };
}

describe('writer lock', () => {
  it('refuses a second process with STORE_LOCKED naming the holder pid', async () => {
    const path = tempDir();
    openStore({ path });
    expect(lockHolder(path).pid).toBe(process.pid);
    const child = startChild('lock-process.ts', ['try', path]);
    onCleanup(() => child.kill());
    const message = await nextMessage<Message>(child);
    expect(message).toMatchObject({ type: 'refused', code: 'STORE_LOCKED', data: { pid: process.pid, path } });
    expect((message as { message: string }).message).toContain(String(process.pid));
    expect((message as { message: string }).message).toContain(path);
  });

  it('takes over the lock of a process that was killed', async () => {
    const path = tempDir();
    const child = startChild('lock-process.ts', ['hold', path]);
    onCleanup(() => child.kill());
    const held = await nextMessage<Message>(child);
    expect(held).toEqual({ type: 'locked', pid: child.process.pid });

    const refused = await expectCode(() => EventStore.open({ path }), 'STORE_LOCKED');
    expect(refused.data).toEqual({ pid: child.process.pid, path });

    await child.kill();
    const store = openStore({ path });
    expect(lockHolder(path).pid).toBe(process.pid);
    await expect(store.append('s', [event('1')])).resolves.toMatchObject({ version: 1 });
  });

  it('is held once per process: worker threads open with lock: false, and close releases it', async () => {
    const path = tempDir();
    const owner = EventStore.open({ path });
    const again = await expectCode(() => EventStore.open({ path }), 'STORE_LOCKED');
    expect(again.message).toContain('this process');
    const sharing = openStore({ path, lock: false });
    await sharing.append('s', [event('1')]);
    await owner.close();
    expect(() => readFileSync(join(path, 'thalo.lock'))).toThrow(/ENOENT/);
    const next = openStore({ path });
    expect(next.streamVersion('s')).toBe(1);
  });

  it('takes over a lock whose pid now names another process, or that is not a lock file at all', async () => {
    const path = tempDir();
    // Our own pid with another start time: a previous process that had this pid (a container restart).
    writeFileSync(join(path, 'thalo.lock'), JSON.stringify({ pid: process.pid, start: '1', token: 'old' }));
    const store = EventStore.open({ path });
    expect(lockHolder(path)).toMatchObject({ pid: process.pid });
    expect(readFileSync(join(path, 'thalo.lock'), 'utf8')).not.toContain('"old"');
    await store.close();

    writeFileSync(join(path, 'thalo.lock'), 'garbage');
    openStore({ path });
    expect(lockHolder(path).pid).toBe(process.pid);
  });
});
