/**
 * Crash safety: a child process appends in a loop and acknowledges every append once it
 * resolved; the test SIGKILLs it at a random moment (after a random number of acks, with appends
 * still in flight), reopens the directory (taking over the dead child's lock) and checks that
 * every acknowledged append is there, nothing is partial and positions are dense. Several rounds
 * on the same directory, so each round also starts from a store that was killed. The same on
 * PostgreSQL: the child is killed in the middle of its transactions, the server rolls them back.
 */
import { unpack } from 'msgpackr';
import { afterAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/store/index.js';
import type { EventStoreContract } from '../../src/store/index.js';
import { PostgresEventStore } from '../../src/store/postgres/index.js';
import { expectDenseLog, underTest } from './contract/support.js';
import type { LoadEvent } from './fixtures/append-load.js';
import { startChild } from './fixtures/child-process.js';
import { onCleanup, tempDir } from './helpers.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres } from './postgres-helpers.js';

const ROUNDS = 6;

interface CrashBackend {
  name: string;
  /** The crash writer's arguments for a fresh store, and how the test opens it. */
  create(): Promise<{ args: (writer: string) => string[]; open: () => Promise<EventStoreContract> }>;
}

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const BACKENDS: CrashBackend[] = [
  {
    name: 'LMDB',
    create: async () => {
      const path = tempDir();
      return { args: (writer) => [path, writer], open: async () => EventStore.open({ path }) };
    },
  },
  ...(postgresSkipped
    ? []
    : [
        {
          name: 'PostgreSQL',
          create: async () => {
            await requirePostgres();
            const schema = freshSchema();
            schemas.push(schema);
            return {
              args: (writer: string) => [POSTGRES.url, writer, schema],
              open: () => PostgresEventStore.open({ url: POSTGRES.url, schema }),
            };
          },
        },
      ]),
];

describe.each(BACKENDS)('crash safety on $name', (backend) => {
  it('keeps every acknowledged append, whole, across SIGKILLs', async () => {
    const place = await backend.create();
    for (let round = 0; round < ROUNDS; round++) {
      const writer = `r${round}`;
      const child = startChild('crash-writer.ts', place.args(writer));
      onCleanup(() => child.kill());
      expect((await child.lines.next()).value).toBe('ready');
      const killAfter = 1 + Math.floor(Math.random() * 400);
      const acked = new Set<number>();
      for await (const line of child.lines) {
        acked.add(Number(line));
        if (acked.size >= killAfter) break;
      }
      await child.kill();
      expect(acked.size).toBe(killAfter);

      const store = await place.open();
      try {
        await expectDenseLog(underTest(store));
        const found = new Map<string, number[]>();
        for (const e of await store.readAll()) {
          const data = unpack(e.data) as LoadEvent;
          const key = `${data.writer}/${data.i}`;
          const ks = found.get(key) ?? [];
          ks.push(data.k);
          found.set(key, ks);
          if (data.k === data.n - 1) expect(ks, `append ${key} is whole`).toEqual(Array.from({ length: data.n }, (_, k) => k));
        }
        for (const [key, ks] of found) {
          const n = 1 + (Number(key.split('/')[1]) % 3);
          expect(ks, `append ${key} is whole, once`).toEqual(Array.from({ length: n }, (_, k) => k));
        }
        for (const i of acked) expect(found.has(`${writer}/${i}`), `acknowledged append ${writer}/${i}`).toBe(true);
      } finally {
        await store.close();
      }
    }
  }, 120_000);
});
