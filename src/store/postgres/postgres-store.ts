/**
 * The event store on PostgreSQL: the same contract as the LMDB store (../contract.ts), for events
 * that must outlive one machine or serve several runtimes. See docs/store.md, "PostgreSQL".
 *
 * Gap-free positions. Every append transaction first locks the one row of `log_head` (the last
 * position) and holds it to its commit, so appending transactions, from any number of processes,
 * run one after the other: each reads the stream heads and command ids as the previous commit left
 * them, takes the positions after the head, writes, and moves the head. A reader can never see
 * position n+1 before n: the transaction that wrote n committed before the one that wrote n+1
 * could lock the head. No sequence is used, so no value is taken by a transaction that commits
 * later (the skipped events of stores built on sequences). The cost is that appends do not run in
 * parallel; group commit makes up for it: one store handle gathers every append made while its
 * previous transaction runs into its next one, and the engine's workers send whole batches.
 *
 * Durable: an append resolves once PostgreSQL answered its COMMIT, which is durable as the
 * server's `synchronous_commit` says (on by default: flushed to its WAL). `durability: 'relaxed'`
 * sets `synchronous_commit = off` on the store's connections: a server crash may then lose the
 * last commits (never half of one).
 *
 * @example
 *   const store = await PostgresEventStore.open({ url: 'postgres://postgres@127.0.0.1/test', schema: 'shop' });
 *   await store.append('counter-1', [{ type: 'Incremented', data: pack({ by: 1 }) }], { expected: 'no_stream' });
 *   await store.readStream('counter-1');   // [{ position: 1, stream: 'counter-1', seq: 1, ... }]
 *   await store.close();
 */
import { pack, unpack } from 'msgpackr';
import type pg from 'pg';
import { ThaloError, isThaloError } from '../../errors.js';
import { GroupCommit, appendEach, appendOne } from '../append-requests.js';
import { commandIdReused } from '../command-ids.js';
import { redactUrl } from '../redact-url.js';
import type { EventStoreContract } from '../contract.js';
import { validateStreamName } from '../stream-name.js';
import {
  checkCheckpointName,
  checkCommonOptions,
  checkListStreamsOptions,
  checkCount,
  checkReadAllOptions,
  checkReadStreamOptions,
  checkSnapshot,
} from '../validation.js';
import type { CommonStoreSettings, PreparedRequest } from '../validation.js';
import type {
  AppendOptions,
  AppendRequest,
  AppendResult,
  BatchAppendOutcome,
  CheckpointEntry,
  CommonStoreOptions,
  EventMetadata,
  ListStreamsOptions,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StoredEvent,
  StreamEntry,
} from '../types.js';
import { planAppends } from './append-plan.js';
import type { CommandRow, StreamHead } from './append-plan.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  createPool,
  isUnavailable,
  quoteIdentifier,
  unavailable,
} from './connection.js';
import type { ConnectionSettings } from './connection.js';
import { CommitNotices } from './commit-notices.js';
import { MergedReads } from './merged-reads.js';
import { migrate } from './schema.js';
import { DEFAULT_SCHEMA, checkSchemaName } from './schema-name.js';

export interface PostgresEventStoreOptions extends CommonStoreOptions {
  /** `postgres://user:password@host:port/database`, as libpq takes it. */
  url: string;
  /** The schema that holds the tables (created when missing). Several deployments can share a database, one schema each. Default `thalo`. */
  schema?: string;
  /** Connections this handle opens at most (default 4). */
  connections?: number;
  /** The server cancels a statement that runs longer (default 15 s). */
  statementTimeoutMs?: number;
  /** How long opening a connection may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Create or upgrade the tables when opening (default true). A worker thread of a process that did it skips it. */
  migrate?: boolean;
}

/** How often (at most) a handle deletes expired command ids. */
const PRUNE_INTERVAL_MS = 1000;
/** How many expired command ids one pruning deletes at most. */
const PRUNE_LIMIT = 1000;

const EVENT_COLUMNS = 'position, stream, seq, id, type, data, recorded_at, metadata, previous';

interface EventRow {
  position: number;
  stream: string;
  seq: number;
  id: string;
  type: string;
  data: Buffer;
  recorded_at: number;
  metadata: Buffer | null;
  previous: number;
}

/** Whether the database answers, as the handle last found out. */
export interface StoreHealth {
  available: boolean;
  /** Why not, while it is not. */
  error?: string;
}

export class PostgresEventStore implements EventStoreContract {
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The append transactions of this handle, one after the other. */
  private writes: Promise<unknown> = Promise.resolve();
  /**
   * Appends made while a transaction runs all join the next one (group commit), and transactions
   * run one after the other, so appends made without waiting commit in the order they were made.
   */
  private readonly batches = new GroupCommit((requests, close) => {
    const outcomes = this.writes.then(() => {
      close();
      return this.transact(requests);
    });
    this.writes = outcomes.catch(() => undefined);
    return outcomes;
  });
  private lastPruneAt = 0;
  private notices: CommitNotices | undefined;
  /** Snapshot and stream reads issued in the same turn, merged into one query each (a worker rebuilding many aggregates at once). */
  private readonly reads: MergedReads;
  private readonly s: string;
  private readonly channel: string;
  private readonly where: string;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly settings: CommonStoreSettings & { url: string; schema: string; connection: ConnectionSettings },
  ) {
    this.s = quoteIdentifier(settings.schema);
    // One notice channel per schema; a channel name is an identifier of at most 63 bytes.
    this.channel = `thalo_commits_${settings.schema}`.slice(0, 63);
    this.where = redactUrl(settings.url);
    this.reads = new MergedReads({
      snapshots: async (streams) => {
        const { rows } = await this.query<{ stream: string; seq: number; state: Buffer }>(
          `SELECT stream, seq, state FROM ${this.s}.snapshots WHERE stream = ANY($1::text[])`,
          [streams],
        );
        return new Map(rows.map((row) => [row.stream, { seq: row.seq, state: row.state }]));
      },
      versions: async (streams) => {
        const { rows } = await this.query<{ stream: string; version: number }>(
          `SELECT stream, version FROM ${this.s}.streams WHERE stream = ANY($1::text[])`,
          [streams],
        );
        return new Map(rows.map((row) => [row.stream, row.version]));
      },
      commands: async (commandIds) => {
        const { rows } = await this.query<CommandRow & { commandId: string }>(
          `SELECT command_id AS "commandId", stream, first_position AS "firstPosition", count, version, recorded_at AS "recordedAt"
           FROM ${this.s}.commands WHERE command_id = ANY($1::text[])`,
          [commandIds],
        );
        return new Map(rows.map((row) => [row.commandId, row]));
      },
      streams: async (requests) => {
        const { rows } = await this.query<EventRow & { request: number }>(
          `SELECT r.request::integer AS request, e.* FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(stream, from_seq, count, request)
           CROSS JOIN LATERAL (SELECT ${EVENT_COLUMNS} FROM ${this.s}.events
             WHERE events.stream = r.stream AND events.seq >= r.from_seq ORDER BY events.seq LIMIT r.count) e
           ORDER BY r.request, e.seq`,
          [requests.map((r) => r.stream), requests.map((r) => r.from), requests.map((r) => r.limit)],
        );
        const out = requests.map((): StoredEvent[] => []);
        for (const row of rows) out[row.request - 1]!.push(toStoredEvent(row));
        return out;
      },
    });
  }

  /**
   * Connects, creates or upgrades the tables (unless `migrate: false`), and resolves with the
   * store. Rejects with `STORE_UNAVAILABLE` naming the URL (password hidden) when the database
   * cannot be reached or refuses the connection, `STORE_SCHEMA_UNSUPPORTED` when a newer release
   * wrote the schema.
   */
  static async open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const common = checkCommonOptions(options);
    const { url } = options;
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url))
      throw new ThaloError('INVALID_ARGUMENT', `options.url must be a postgres:// URL, got ${JSON.stringify(redactUrl(String(url)))}`);
    const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
    const connection: ConnectionSettings = {
      url,
      size: positive(options.connections, 'connections', 4),
      statementTimeoutMs: positive(options.statementTimeoutMs, 'statementTimeoutMs', DEFAULT_STATEMENT_TIMEOUT_MS),
      connectTimeoutMs: positive(options.connectTimeoutMs, 'connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS),
      ...(common.durability === 'relaxed' ? { synchronousCommit: 'off' as const } : {}),
    };
    const pool = createPool(connection);
    try {
      const client = await pool.connect();
      try {
        if (options.migrate !== false) await migrate(client, schema, redactUrl(url));
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (isThaloError(error)) throw error;
      throw unavailable(url, error);
    }
    return new PostgresEventStore(pool, { ...common, url, schema, connection });
  }

  /** The schema that holds this store's tables. */
  get schema(): string {
    return this.settings.schema;
  }

  async append(stream: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    return appendOne(stream, events, options, this.settings.limits, (requests) => this.batches.add(requests));
  }

  async appendBatch(requests: AppendRequest[]): Promise<BatchAppendOutcome[]> {
    this.assertOpen();
    return appendEach(requests, this.settings.limits, (prepared) => this.batches.add(prepared));
  }

  async findCommand(commandId: string, stream?: string): Promise<AppendResult | undefined> {
    this.assertOpen();
    if (typeof commandId !== 'string') throw new ThaloError('INVALID_ARGUMENT', 'commandId must be a string');
    // Merged with the lookups issued with it: a worker looks up all of a batch's command ids at once.
    const row = await this.reads.command(commandId);
    if (row === undefined || Date.now() - row.recordedAt >= this.settings.idempotencyWindowMs) return undefined;
    const wanted = stream ?? row.stream;
    if (row.stream !== wanted) throw commandIdReused(commandId, wanted, row.stream);
    const events = row.count === 0 ? [] : await this.readPositions(row.firstPosition, row.count, commandId);
    return { stream: wanted, version: row.version, events, duplicate: true };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    validateStreamName(stream);
    const { from, limit, backwards, maxBytes } = checkReadStreamOptions(options);
    if (limit === 0) return [];
    // A rebuild's read (forwards, a bounded count, no byte bound) joins the others issued with it.
    if (!backwards && maxBytes === Infinity && limit !== Infinity) return this.reads.stream(stream, from ?? 1, limit);
    const order = backwards ? 'DESC' : 'ASC';
    const start = from ?? (backwards ? Number.MAX_SAFE_INTEGER : 1);
    const inner = `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE stream = $1 AND seq ${backwards ? '<=' : '>='} $2 ORDER BY seq ${order} LIMIT $3`;
    return this.readBounded(inner, [stream, start, finite(limit)], `seq ${order}`, maxBytes);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const { from, limit, maxBytes } = checkReadAllOptions(options);
    if (limit === 0) return [];
    const inner = `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE position >= $1 ORDER BY position LIMIT $2`;
    return this.readBounded(inner, [from, finite(limit)], 'position ASC', maxBytes);
  }

  async lastPosition(): Promise<number> {
    this.assertOpen();
    const { rows } = await this.query<{ position: number }>(`SELECT position FROM ${this.s}.log_head`);
    return rows[0]?.position ?? 0;
  }

  async streamVersion(stream: string): Promise<number> {
    this.assertOpen();
    validateStreamName(stream);
    // Merged with the reads issued with it: a worker checks all of a round's cached states at once.
    return this.reads.version(stream);
  }

  async listStreams(options: ListStreamsOptions): Promise<StreamEntry[]> {
    this.assertOpen();
    const { prefix, after, limit } = checkListStreamsOptions(options);
    if (limit === 0) return [];
    // "C" collation: names compare by their UTF-8 bytes, as the contract orders them.
    const { rows } = await this.query<{ stream: string; version: number }>(
      `SELECT stream, version FROM ${this.s}.streams
       WHERE left(stream, length($1)) = $1 AND ($2::text IS NULL OR stream > $2) AND version > 0 ORDER BY stream LIMIT $3`,
      [prefix, after ?? null, limit],
    );
    return rows.map((row) => ({ stream: row.stream, version: row.version }));
  }

  async getCheckpoint(name: string): Promise<number | undefined> {
    this.assertOpen();
    checkCheckpointName(name);
    const { rows } = await this.query<{ position: number }>(`SELECT position FROM ${this.s}.checkpoints WHERE name = $1`, [name]);
    return rows[0]?.position;
  }

  async setCheckpoint(name: string, position: number): Promise<void> {
    this.assertOpen();
    checkCheckpointName(name);
    checkCount(position, 'position');
    await this.query(
      `INSERT INTO ${this.s}.checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
      [name, position],
    );
  }

  async advanceCheckpoint(name: string, position: number): Promise<number> {
    this.assertOpen();
    checkCheckpointName(name);
    checkCount(position, 'position');
    // The row lock of the upsert orders racing calls; each keeps the greater of the two.
    const { rows } = await this.query<{ position: number }>(
      `INSERT INTO ${this.s}.checkpoints AS c (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = GREATEST(c.position, excluded.position) RETURNING position`,
      [name, position],
    );
    return rows[0]!.position;
  }

  async listCheckpoints(prefix = ''): Promise<CheckpointEntry[]> {
    this.assertOpen();
    if (typeof prefix !== 'string') throw new ThaloError('INVALID_ARGUMENT', 'prefix must be a string');
    const { rows } = await this.query<{ name: string; position: number }>(
      `SELECT name, position FROM ${this.s}.checkpoints WHERE left(name, length($1)) = $1 ORDER BY name`,
      [prefix],
    );
    return rows.map((row) => ({ name: row.name, position: row.position }));
  }

  async deleteCheckpoint(name: string): Promise<boolean> {
    this.assertOpen();
    checkCheckpointName(name);
    const { rowCount } = await this.query(`DELETE FROM ${this.s}.checkpoints WHERE name = $1`, [name]);
    return (rowCount ?? 0) > 0;
  }

  async getSnapshot(stream: string): Promise<Snapshot | undefined> {
    this.assertOpen();
    validateStreamName(stream);
    return this.reads.snapshot(stream);
  }

  async putSnapshot(stream: string, snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    validateStreamName(stream);
    const checked = checkSnapshot(snapshot);
    // Stored only when the stream has reached the seq; a stream's version never goes down, so
    // the check and the write need no lock between them.
    const { rows } = await this.query<{ version: number | null; stored: boolean }>(
      `WITH head AS (SELECT coalesce((SELECT version FROM ${this.s}.streams WHERE stream = $1), 0) AS version),
            stored AS (INSERT INTO ${this.s}.snapshots (stream, seq, state) SELECT $1, $2, $3 FROM head WHERE head.version >= $2
                       ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, state = excluded.state RETURNING 1)
       SELECT (SELECT version FROM head) AS version, EXISTS (SELECT 1 FROM stored) AS stored`,
      [stream, checked.seq, checked.state],
    );
    const { version, stored } = rows[0]!;
    if (!stored) {
      throw new ThaloError('INVALID_ARGUMENT', `snapshot.seq ${checked.seq} is past stream "${stream}", which is at version ${version}`, {
        data: { stream, seq: checked.seq, version },
      });
    }
  }

  /**
   * Call `listener` with the last position after each commit of any process on this schema
   * (PostgreSQL's `LISTEN/NOTIFY`: one notice per transaction), and with the head once more after
   * the notice connection came back from a loss, since notices sent meanwhile are gone. Returns
   * the unsubscribe function.
   */
  watchCommits(listener: (position: number) => void): () => void {
    this.assertOpen();
    this.notices ??= new CommitNotices(this.settings.connection, this.channel, () => this.lastPosition());
    return this.notices.add(listener);
  }

  /** Whether the database answered the last time this handle asked, and the notice connection holds. */
  health(): StoreHealth {
    return this.notices?.health() ?? { available: true };
  }

  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.writes;
      await this.notices?.close();
      await this.pool.end();
    })();
    return this.closing;
  }

  /** One append transaction: lock the head, read what the checks need, decide, write, commit. */
  private async transact(requests: PreparedRequest[]): Promise<BatchAppendOutcome[]> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(this.settings.url, error, false);
    }
    let committing = false;
    let broken: unknown;
    // A connection that breaks between two statements says so as an event; the next statement fails too.
    const onError = (error: Error): void => void (broken ??= error);
    client.on('error', onError);
    try {
      const s = this.s;
      const locked = (await client.query(`BEGIN; SELECT position FROM ${s}.log_head FOR UPDATE`)) as unknown as pg.QueryResult[];
      const lastPosition = (locked[1]!.rows[0] as { position: number }).position;
      const streams = [...new Set(requests.map((r) => r.stream))];
      const commandIds = [...new Set(requests.flatMap((r) => (r.commandId === undefined ? [] : [r.commandId])))];
      const { rows } = await client.query<{
        heads: [string, number, number][];
        commands: [string, string, number, number, number, number][];
      }>({
        name: `thalo-heads-${this.settings.schema}`,
        text: `SELECT
          (SELECT coalesce(json_agg(json_build_array(stream, version, last_position)), '[]') FROM ${s}.streams WHERE stream = ANY($1::text[])) AS heads,
          (SELECT coalesce(json_agg(json_build_array(command_id, stream, first_position, count, version, recorded_at)), '[]')
             FROM ${s}.commands WHERE command_id = ANY($2::text[])) AS commands`,
        values: [streams, commandIds],
      });
      const heads = new Map<string, StreamHead>(rows[0]!.heads.map(([stream, version, last]) => [stream, { version, lastPosition: last }]));
      const commands = new Map<string, CommandRow>(
        rows[0]!.commands.map(([id, stream, firstPosition, count, version, recordedAt]) => [
          id,
          { stream, firstPosition, count, version, recordedAt },
        ]),
      );
      const now = Date.now();
      const plan = planAppends({ requests, lastPosition, heads, commands, now, idempotencyWindowMs: this.settings.idempotencyWindowMs });
      for (const duplicate of plan.duplicates) {
        const events =
          duplicate.count === 0 ? [] : await this.readPositions(duplicate.firstPosition, duplicate.count, duplicate.commandId, client);
        plan.outcomes[duplicate.index] = {
          ok: true,
          result: { stream: duplicate.stream, version: duplicate.version, events, duplicate: true },
        };
      }
      if (plan.events.length > 0 || plan.commands.size > 0 || plan.snapshots.size > 0) {
        await client.query({
          name: `thalo-append-${this.settings.schema}`,
          text: this.appendSql(),
          values: appendValues(plan, this.channel),
        });
      }
      committing = true;
      await client.query('COMMIT');
      if (now - this.lastPruneAt >= PRUNE_INTERVAL_MS) {
        this.lastPruneAt = now;
        void this.pruneCommands(now - this.settings.idempotencyWindowMs);
      }
      return plan.outcomes;
    } catch (error) {
      broken = error;
      if (!committing) await client.query('ROLLBACK').catch(() => undefined);
      if (isThaloError(error)) throw error;
      if (isUnavailable(error)) throw unavailable(this.settings.url, error, committing ? 'unknown' : false);
      throw new ThaloError('STORE_WRITE_FAILED', `the PostgreSQL event store at ${this.where} failed to append: ${describe(error)}`, {
        cause: error,
      });
    } finally {
      // A connection that failed is closed rather than handed to the next transaction.
      client.off('error', onError);
      client.release(broken !== undefined && isUnavailable(broken) ? (broken as Error) : undefined);
    }
  }

  /**
   * Every row of one append transaction in one statement: the events, the stream heads, the
   * command ids, the snapshots, the log's head, and the commit notice (sent by PostgreSQL when,
   * and only if, the transaction commits).
   */
  private appendSql(): string {
    const s = this.s;
    return `WITH
      events AS (INSERT INTO ${s}.events (${EVENT_COLUMNS})
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bytea[], $7::bigint[], $8::bytea[], $9::bigint[])),
      heads AS (INSERT INTO ${s}.streams (stream, version, last_position) SELECT * FROM unnest($10::text[], $11::bigint[], $12::bigint[])
        ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_position = excluded.last_position),
      commands AS (INSERT INTO ${s}.commands (command_id, stream, first_position, count, version, recorded_at)
        SELECT * FROM unnest($13::text[], $14::text[], $15::bigint[], $16::integer[], $17::bigint[], $18::bigint[])
        ON CONFLICT (command_id) DO UPDATE SET stream = excluded.stream, first_position = excluded.first_position,
          count = excluded.count, version = excluded.version, recorded_at = excluded.recorded_at),
      snapshots AS (INSERT INTO ${s}.snapshots (stream, seq, state) SELECT * FROM unnest($19::text[], $20::bigint[], $21::bytea[])
        ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, state = excluded.state),
      head AS (UPDATE ${s}.log_head SET position = $22)
    SELECT pg_notify($23, $22::text) WHERE $24`;
  }

  /** The `count` events from `first`, in order; missing ones mean the log lost what a command id recorded. */
  private async readPositions(first: number, count: number, commandId: string, client?: pg.PoolClient): Promise<StoredEvent[]> {
    const text = `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events WHERE position >= $1 AND position < $2 ORDER BY position`;
    const { rows } = client
      ? await client.query<EventRow>(text, [first, first + count])
      : await this.query<EventRow>(text, [first, first + count]);
    if (rows.length < count) {
      throw new ThaloError(
        'STORE_CORRUPTED',
        `the PostgreSQL event store at ${this.where} is damaged at position ${first + rows.length}: command id "${commandId}" recorded ${count} events from position ${first}, but the log does not hold them`,
        { data: { position: first + rows.length, url: this.where } },
      );
    }
    return rows.map(toStoredEvent);
  }

  /**
   * Runs `inner` (a select of events, ordered and limited) and keeps the events within `maxBytes`
   * of data, at least one: the byte bound is applied in the database, so that a page of large
   * events does not travel only to be cut.
   */
  private async readBounded(inner: string, params: unknown[], order: string, maxBytes: number): Promise<StoredEvent[]> {
    if (maxBytes === Infinity) return (await this.query<EventRow>(inner, params)).rows.map(toStoredEvent);
    const n = params.length + 1;
    const text = `SELECT ${EVENT_COLUMNS} FROM (
        SELECT page.*, sum(octet_length(data)) OVER (ORDER BY ${order}) AS bytes, row_number() OVER (ORDER BY ${order}) AS n FROM (${inner}) page
      ) bounded WHERE bytes <= $${n} OR n = 1 ORDER BY ${order}`;
    return (await this.query<EventRow>(text, [...params, maxBytes])).rows.map(toStoredEvent);
  }

  /** Deletes up to PRUNE_LIMIT command ids recorded before `cutoff`; one used again since keeps its new record. */
  private async pruneCommands(cutoff: number): Promise<void> {
    await this.query(
      `DELETE FROM ${this.s}.commands WHERE command_id IN (SELECT command_id FROM ${this.s}.commands WHERE recorded_at < $1 LIMIT ${PRUNE_LIMIT}) AND recorded_at < $1`,
      [cutoff],
    ).catch(() => undefined);
  }

  /** A query on a pooled connection, its connection failures as `STORE_UNAVAILABLE`. */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      // Closed while the query waited for a connection.
      this.assertOpen();
      if (isUnavailable(error)) {
        this.notices?.suspect();
        throw unavailable(this.settings.url, error);
      }
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ThaloError('STORE_CLOSED', `the PostgreSQL event store at ${this.where} (schema "${this.settings.schema}") is closed`, {
        data: { url: this.where, schema: this.settings.schema },
      });
  }
}

/** The parameters of `appendSql`, column by column. */
function appendValues(plan: ReturnType<typeof planAppends>, channel: string): unknown[] {
  const { events } = plan;
  const heads = [...plan.heads];
  const commands = [...plan.commands];
  const snapshots = [...plan.snapshots];
  return [
    events.map((e) => e.position),
    events.map((e) => e.stream),
    events.map((e) => e.seq),
    events.map((e) => e.id),
    events.map((e) => e.type),
    events.map((e) => Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength)),
    events.map((e) => e.timestamp),
    events.map((e) => (isEmpty(e.metadata) ? null : pack(e.metadata))),
    events.map((e) => e.previous ?? 0),
    heads.map(([stream]) => stream),
    heads.map(([, head]) => head.version),
    heads.map(([, head]) => head.lastPosition),
    commands.map(([id]) => id),
    commands.map(([, c]) => c.stream),
    commands.map(([, c]) => c.firstPosition),
    commands.map(([, c]) => c.count),
    commands.map(([, c]) => c.version),
    commands.map(([, c]) => c.recordedAt),
    snapshots.map(([stream]) => stream),
    snapshots.map(([, snapshot]) => snapshot.seq),
    snapshots.map(([, snapshot]) => Buffer.from(snapshot.state.buffer, snapshot.state.byteOffset, snapshot.state.byteLength)),
    plan.lastPosition,
    channel,
    events.length > 0,
  ];
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    position: row.position,
    stream: row.stream,
    seq: row.seq,
    id: row.id,
    type: row.type,
    data: row.data,
    timestamp: row.recorded_at,
    metadata: row.metadata === null ? {} : (unpack(row.metadata) as EventMetadata),
    previous: row.previous,
  };
}

function isEmpty(metadata: EventMetadata): boolean {
  for (const _ in metadata) return false;
  return true;
}

function finite(limit: number): number | null {
  return limit === Infinity ? null : limit;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ThaloError('INVALID_ARGUMENT', `options.${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}
