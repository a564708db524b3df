/**
 * Connections to PostgreSQL for the store: the pools, how integers come back, and which failures
 * mean "the database cannot be reached" (`STORE_UNAVAILABLE`) rather than a fault of ours.
 *
 * Every connection carries a `statement_timeout` (the server cancels a statement that runs past
 * it) and the same bound on idle transactions, so that a runtime cut off in the middle of a
 * commit cannot keep the log's head locked; the client gives up on an answer a little after the
 * server would have, which covers a server that stopped answering altogether.
 */
import pg from 'pg';
import { ThaloError } from '../../errors.js';
import { redactUrl } from '../redact-url.js';

/** How long one statement may run, by default: the server cancels it past this. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
/** How long opening a connection may take, by default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const INT8 = 20;

/**
 * `bigint` columns (positions, seqs, times in ms) as numbers: they stay below 2^53, which the
 * store's checks guarantee for everything it writes. pg's default is a string.
 */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface ConnectionSettings {
  url: string;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** `off` for the opt-in relaxed durability; otherwise the server's own setting stands. */
  synchronousCommit?: 'off';
  /** Connections at most. */
  size: number;
}

export function createPool(settings: ConnectionSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.size,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    idle_in_transaction_session_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 5_000,
    keepAlive: true,
    application_name: 'thalo-runtime',
    types: TYPES,
    ...(settings.synchronousCommit === 'off' ? { options: '-c synchronous_commit=off' } : {}),
  });
  // A connection that breaks while idle in the pool: the pool drops it and the next query opens
  // another. Without a listener, the error would end the process.
  pool.on('error', () => undefined);
  return pool;
}

/** One connection of its own (the commit notices' LISTEN), with the pool's settings. */
export function createClient(settings: ConnectionSettings): pg.Client {
  return new pg.Client({
    connectionString: settings.url,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    keepAlive: true,
    application_name: 'thalo-runtime',
    types: TYPES,
  });
}

/** SQLSTATE classes and codes that say the server cannot serve us now (not that we asked wrongly). */
const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, a restart)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
  '57014', // query_canceled: the statement timeout
  '25P03', // idle_in_transaction_session_timeout
]);

/** Whether `error` means the database could not be reached or stopped answering. */
export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNAVAILABLE_STATES.has(code) || code.startsWith('08')) return true;
    if (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN|NOTFOUND)$/.test(code)) return true;
  }
  return (
    typeof message === 'string' &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|not queryable/i.test(
      message,
    )
  );
}

/**
 * `STORE_UNAVAILABLE` for `error`. `applied` says what is known of a write: `false` when it
 * failed before its commit was sent, `'unknown'` when the connection went while the commit was
 * on its way (the transaction then either committed whole or not at all).
 */
export function unavailable(url: string, error: unknown, applied?: false | 'unknown'): ThaloError {
  const said = error instanceof Error ? error.message : String(error);
  const where = redactUrl(url);
  const outcome =
    applied === 'unknown'
      ? '; the connection went while the commit was on its way, so the write was applied whole or not at all (retry with the same command id to find out)'
      : applied === false
        ? '; nothing was written'
        : '';
  return new ThaloError('STORE_UNAVAILABLE', `the PostgreSQL event store at ${where} cannot be reached: ${said}${outcome}`, {
    data: applied === undefined ? { url: where } : { url: where, applied },
    cause: error,
  });
}

/** A schema name as an SQL identifier, quoted. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
