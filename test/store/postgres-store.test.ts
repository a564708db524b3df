/**
 * What only the PostgreSQL store promises, beyond the contract (postgres-contract.test.ts):
 * migrations that runtimes starting at once do not race, a newer schema refused, an unreachable
 * server named without its password, two processes appending to the same streams, commit notices
 * across handles, and a connection lost and found again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isThaloError } from '../../src/errors.js';
import { PostgresEventStore, SCHEMA_VERSION } from '../../src/store/postgres/index.js';
import { expectDenseLog, underTest } from './contract/support.js';
import { startChild } from './fixtures/child-process.js';
import { onCleanup, tempDir } from './helpers.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres, sql, startProxy } from './postgres-helpers.js';

const schemas: string[] = [];

function schema(): string {
  const name = freshSchema();
  schemas.push(name);
  return name;
}

async function open(options: { schema: string; url?: string; connectTimeoutMs?: number }): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open({ url: POSTGRES.url, ...options });
  onCleanup(() => store.close());
  return store;
}

const event = (type = 'Happened') => ({ type, data: pack({ at: Date.now() }) });

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(postgresSkipped)('the PostgreSQL store', () => {
  beforeAll(requirePostgres);
  afterAll(() => dropSchemas(schemas));

  describe('migrations', () => {
    it('creates the tables once when several stores open a new schema at the same moment', async () => {
      const name = schema();
      const stores = await Promise.all(Array.from({ length: 6 }, () => open({ schema: name })));
      const rows = await sql<{ version: number }>(`SELECT version FROM "${name}".schema_version ORDER BY version`);
      // Each migration once: versions 1 to SCHEMA_VERSION, no repeats.
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      // Every handle works on the one set of tables.
      await Promise.all(stores.map((store, i) => store.append(`s-${i}`, [event()])));
      expect(await stores[0]!.lastPosition()).toBe(6);
    });

    it('refuses a schema written by a newer release, naming both versions', async () => {
      const name = schema();
      await (await open({ schema: name })).close();
      await sql(`INSERT INTO "${name}".schema_version (version, name) VALUES ($1, 'from the future')`, [SCHEMA_VERSION + 1]);
      const opened = await settle(PostgresEventStore.open({ url: POSTGRES.url, schema: name }));
      expect(!opened.ok && isThaloError(opened.error, 'STORE_SCHEMA_UNSUPPORTED')).toBe(true);
      const { message, data } = (opened as { error: { message: string; data: unknown } }).error;
      expect(message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
      expect(data).toEqual({ schema: name, version: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION });
    });

    it('refuses a schema name that is no plain identifier', async () => {
      const opened = await settle(PostgresEventStore.open({ url: POSTGRES.url, schema: 'Robert"); DROP TABLE x;--' }));
      expect(!opened.ok && isThaloError(opened.error, 'INVALID_ARGUMENT')).toBe(true);
    });
  });

  it('names an unreachable server by its URL with the password hidden', async () => {
    const proxy = await startProxy();
    await proxy.close();
    const url = new URL(proxy.url);
    url.username = 'someone';
    url.password = 's3cret-pw';
    const opened = await settle(PostgresEventStore.open({ url: url.toString(), schema: schema(), connectTimeoutMs: 2_000 }));
    expect(!opened.ok && isThaloError(opened.error, 'STORE_UNAVAILABLE')).toBe(true);
    const { message, data } = (opened as { error: { message: string; data: { url: string } } }).error;
    expect(message).toContain(`127.0.0.1:${proxy.port}`);
    expect(message).not.toContain('s3cret-pw');
    expect(data.url).toBe(`postgres://someone:***@127.0.0.1:${proxy.port}${url.pathname}`);
  });

  it('keeps positions dense and seqs unique when two processes append to the same streams at once', async () => {
    const name = schema();
    await (await open({ schema: name })).close();
    const go = join(tempDir(), 'go');
    const n = 150;
    const children = ['a', 'b'].map((who) => startChild('pg-contender.ts', [POSTGRES.url, name, who, String(n), go]));
    for (const child of children) onCleanup(() => child.kill());
    for (const child of children) expect((await child.lines.next()).value).toBe('ready');
    writeFileSync(go, '');
    type Line = { stream: string; ok: boolean; positions?: number[]; seqs?: number[]; code?: string };
    const lines = await Promise.all(
      children.map(async (child) => {
        const out: Line[] = [];
        for await (const line of child.lines) {
          if (line === 'done') break;
          out.push(JSON.parse(line) as Line);
        }
        return out;
      }),
    );
    const all = lines.flat();
    // Every failure is a conflict, reported as such.
    expect(all.filter((l) => !l.ok).map((l) => l.code)).toEqual(all.filter((l) => !l.ok).map(() => 'WRONG_EXPECTED_VERSION'));
    // no_stream: exactly one process won each stream.
    for (let i = 0; i < n; i++)
      expect(
        all.filter((l) => l.stream === `c${i}` && l.ok),
        `c${i}`,
      ).toHaveLength(1);
    // What the processes were told is what the log holds: dense, each acknowledged position once.
    const store = await open({ schema: name });
    await expectDenseLog(underTest(store));
    const acked = all.flatMap((l) => l.positions ?? []).sort((x, y) => x - y);
    expect(acked).toEqual(Array.from({ length: await store.lastPosition() }, (_, i) => i + 1));
    for (let s = 0; s < 5; s++) {
      const seqs = (await store.readStream(`shared-${s}`)).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
  }, 60_000);

  it('tells every handle of the commits of another, once per transaction', async () => {
    const name = schema();
    const writer = await open({ schema: name });
    const reader = await open({ schema: name });
    const heard: number[] = [];
    reader.watchCommits((position) => heard.push(position));
    // LISTEN is in place once a first notice arrives; send until then, and until the last one's came.
    let sent = 0;
    await until(async () => {
      if (heard.length === 0) sent = (await writer.append('w', [event()])).events[0]!.position;
      return heard.includes(sent);
    });
    heard.length = 0;
    const last = await writer.appendBatch([
      { stream: 'w', events: [event(), event()] },
      { stream: 'v', events: [event()] },
    ]);
    await until(() => heard.length > 0);
    expect(heard).toEqual([last[1]!.ok && last[1]!.result.events[0]!.position]);
  });

  it('answers command ids looked up together (one query) each on its own: known, unknown, and recorded for another stream', async () => {
    const store = await open({ schema: schema() });
    const known = await store.appendBatch(
      Array.from({ length: 20 }, (_, i) => ({ stream: `c-${i}`, events: [event(), event()], commandId: `known-${i}` })),
    );
    const lookups = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => settle(Promise.resolve(store.findCommand(`known-${i}`, `c-${i}`)))),
      settle(Promise.resolve(store.findCommand('never-sent', 'c-0'))),
      settle(Promise.resolve(store.findCommand('known-3', 'c-4'))),
      settle(Promise.resolve(store.findCommand('known-5'))),
    ]);
    lookups.slice(0, 20).forEach((lookup, i) => {
      const original = known[i]!;
      expect(original.ok && lookup.ok).toBe(true);
      if (!original.ok || !lookup.ok) return;
      expect(lookup.value).toEqual({ ...original.result, duplicate: true });
    });
    expect(lookups[20]).toEqual({ ok: true, value: undefined });
    const reused = lookups[21]!;
    expect(!reused.ok && isThaloError(reused.error, 'COMMAND_ID_REUSED')).toBe(true);
    expect(lookups[22]!.ok && lookups[22]!.value?.stream).toBe('c-5');
  });

  it('fails with STORE_UNAVAILABLE while the server cannot be reached, loses nothing acknowledged, and serves again', async () => {
    const proxy = await startProxy();
    onCleanup(() => proxy.close());
    const name = schema();
    const store = await open({ schema: name, url: proxy.url, connectTimeoutMs: 1_000 });
    store.watchCommits(() => undefined);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push((await store.append('before', [event()])).events[0]!.position);
    await until(() => store.health().available);

    await proxy.cut();
    const during = await settle(store.append('during', [event()]));
    expect(!during.ok && isThaloError(during.error, 'STORE_UNAVAILABLE')).toBe(true);
    expect(((during as { error: { data: { applied?: unknown } } }).error.data as { applied?: unknown }).applied).toBe(false);
    const read = await settle(store.readAll());
    expect(!read.ok && isThaloError(read.error, 'STORE_UNAVAILABLE')).toBe(true);
    await until(() => !store.health().available);

    await proxy.restore();
    await until(() => store.health().available);
    // The pool opens new connections: appends and reads work again on the same handle.
    const after = await store.append('after', [event()]);
    expect(after.events[0]!.position).toBe(21);
    const direct = await open({ schema: name });
    expect((await direct.readAll()).map((e) => e.position)).toEqual([...acked, 21]);
  });
});
