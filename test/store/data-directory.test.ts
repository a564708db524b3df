/** The store's path is always a directory, whatever its name looks like. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import { event, tempDir } from './helpers.js';

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
});
