/**
 * What the PostgreSQL tests share: the server (THALO_POSTGRES_URL, default the local `test`
 * database as user postgres), a check that it answers, and schemas of their own, dropped after.
 * With THALO_SKIP_POSTGRES=1 the PostgreSQL tests are skipped; otherwise a server that does not
 * answer fails them with a message naming the URL and the variable.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import pg from 'pg';

export const POSTGRES = {
  url: process.env.THALO_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  skipVariable: 'THALO_SKIP_POSTGRES',
};

export const postgresSkipped = process.env[POSTGRES.skipVariable] === '1';

export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES.url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES.url} (${error instanceof Error ? error.message : String(error)}); start it, point THALO_POSTGRES_URL at one, or set ${POSTGRES.skipVariable}=1 to skip these tests`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema name no other test uses. */
export function freshSchema(): string {
  return `thalo_test_${randomBytes(6).toString('hex')}`;
}

/** Runs `sql` on a connection of its own. */
export async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES.url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchemas(schemas: string[]): Promise<void> {
  if (postgresSkipped || schemas.length === 0) return;
  await sql(`DROP SCHEMA IF EXISTS ${schemas.map((s) => `"${s}"`).join(', ')} CASCADE`);
}

/**
 * A TCP proxy in front of the PostgreSQL server, for faults no other test may feel: `cut` closes
 * every connection through it and refuses new ones (the database is "unreachable"), `restore`
 * lets connections through again.
 */
export interface CuttableProxy {
  port: number;
  /** POSTGRES.url with the proxy's port. */
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(): Promise<CuttableProxy> {
  const target = new URL(POSTGRES.url);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };
  await listen();
  const url = new URL(POSTGRES.url);
  url.port = String(port);
  return { port, url: url.toString(), cut: stop, restore: listen, close: stop };
}
