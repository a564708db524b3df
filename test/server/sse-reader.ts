/**
 * A Server-Sent Events reader for tests: it opens `GET /v1/subscribe…`, keeps every message (and
 * every comment line) as it arrives, and lets the test wait for a condition on what arrived, so
 * tests synchronise on the events themselves rather than on sleeps. It parses with the client's
 * own parser, so the tests read the stream as users' clients do.
 */
import { readServerSentEvents } from '../../src/client/index.js';
import type { SseMessage as ServerSentEvent } from '../../src/client/index.js';

export interface SseMessage {
  id: number;
  event: { position: number; id: string; stream: string; [field: string]: unknown };
}

export class SseReader {
  readonly messages: SseMessage[] = [];
  /** Comment lines (`: …`), in order; `log` interleaves them with the messages. */
  readonly comments: string[] = [];
  /** Everything in arrival order: `id:<n>` for a message, the text for a comment. */
  readonly log: string[] = [];
  status = 0;
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private ended = false;
  private failure: unknown;
  /** Resolves once the response has started (status and headers known). */
  readonly opened: Promise<void>;
  /** Resolves when the stream ended (the server closed it, or `close()`). */
  readonly done: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    let opened!: () => void;
    this.opened = new Promise((resolve) => (opened = resolve));
    this.done = (async () => {
      try {
        const response = await fetch(url, { headers, signal: this.abort.signal });
        this.status = response.status;
        opened();
        if (!response.ok) {
          this.comments.push(await response.text());
          return;
        }
        for await (const message of readServerSentEvents(response.body!)) {
          this.take(message);
          this.notify();
        }
      } catch (error) {
        if (!this.abort.signal.aborted) this.failure = error;
      } finally {
        opened();
        this.ended = true;
        this.notify();
      }
    })();
  }

  /** The positions received, in order. */
  get ids(): number[] {
    return this.messages.map((m) => m.id);
  }

  /** Resolves once `done(this)` holds; rejects if the stream ends first, or after `timeoutMs`. */
  until(done: (reader: SseReader) => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out; received ids ${JSON.stringify(this.ids)}`)), timeoutMs);
      const check = () => {
        if (done(this)) finish();
        else if (this.ended)
          finish(new Error(`the stream ended (${String(this.failure ?? 'closed')}); received ids ${JSON.stringify(this.ids)}`));
      };
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once at least `count` messages arrived. */
  untilCount(count: number): Promise<void> {
    return this.until((r) => r.messages.length >= count);
  }

  /** Drop the connection (as a client that goes away without a word). */
  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private take(message: ServerSentEvent): void {
    if (message.comment !== undefined) {
      this.comments.push(message.comment);
      this.log.push(message.comment);
    } else if (message.id !== undefined && message.data !== undefined) {
      this.messages.push({ id: Number(message.id), event: JSON.parse(message.data) as SseMessage['event'] });
      this.log.push(`id:${message.id}`);
    }
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}
