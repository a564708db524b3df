/**
 * Commit notices across processes: one connection LISTENs on the schema's channel, where every
 * append transaction of every runtime sends its last position (NOTIFY is delivered on commit, one
 * per transaction). When the connection is lost, it is opened again with a doubling backoff
 * (100 ms to 5 s); notices sent in between are gone, so the listeners then get the head once,
 * which is what a notice would have told them. The connection's state is the store's health:
 * while it is down, the database is taken as unreachable.
 */
import type pg from 'pg';
import { createClient, quoteIdentifier } from './connection.js';
import type { ConnectionSettings } from './connection.js';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class CommitNotices {
  private client: pg.Client | undefined;
  private readonly listeners = new Set<(position: number) => void>();
  private closed = false;
  private available = true;
  private error: string | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly channel: string,
    private readonly head: () => Promise<number>,
  ) {
    this.connecting = this.connect(false);
  }

  add(listener: (position: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  health(): { available: boolean; error?: string } {
    return this.available ? { available: true } : { available: false, error: this.error ?? 'unknown' };
  }

  /** A query of the store found the database unreachable: check the notice connection now. */
  suspect(): void {
    const client = this.client;
    if (client === undefined) return;
    client.query('SELECT 1').catch((error: unknown) => this.lost(client, error));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Opens the connection, again and again until it holds; `afterLoss`: tell the listeners the head once it does. */
  private async connect(afterLoss: boolean): Promise<void> {
    let delay = FIRST_RETRY_MS;
    let recovered = afterLoss;
    while (!this.closed) {
      const client = createClient(this.settings);
      client.on('error', (error) => this.lost(client, error));
      client.on('end', () => this.lost(client, new Error('the connection ended')));
      client.on('notification', (message) => {
        if (message.channel !== this.channel || message.payload === undefined) return;
        const position = Number(message.payload);
        if (Number.isSafeInteger(position)) this.emit(position);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
        if (this.closed) {
          await client.end();
          return;
        }
        this.client = client;
        this.available = true;
        this.error = undefined;
        this.connecting = undefined;
        if (recovered) this.emit(await this.head());
        return;
      } catch (error) {
        void client.end().catch(() => undefined);
        this.available = false;
        this.error = error instanceof Error ? error.message : String(error);
        recovered = true;
        await new Promise<void>((resolve) => {
          this.retryTimer = setTimeout(resolve, delay);
          this.retryTimer.unref();
        });
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.closed || client !== this.client) return;
    this.client = undefined;
    this.available = false;
    this.error = error instanceof Error ? error.message : String(error);
    void client.end().catch(() => undefined);
    this.connecting ??= this.connect(true);
  }

  private emit(position: number): void {
    for (const listener of [...this.listeners]) listener(position);
  }
}
