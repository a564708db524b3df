/**
 * A Server-Sent Events reader for tests: it opens `GET /v1/subscribe…`, keeps every message (and
 * every comment line) as it arrives, and lets the test wait for a condition on what arrived, so
 * tests synchronise on the events themselves rather than on sleeps.
 */
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
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of response.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            this.take(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
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
        else if (this.ended) finish(new Error(`the stream ended (${String(this.failure ?? 'closed')}); received ids ${JSON.stringify(this.ids)}`));
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

  private take(block: string): void {
    let id: number | undefined;
    let data: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        this.log.push(line.slice(1).trim());
      } else if (line.startsWith('id: ')) id = Number(line.slice(4));
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (id !== undefined && data !== undefined) {
      this.messages.push({ id, event: JSON.parse(data) as SseMessage['event'] });
      this.log.push(`id:${id}`);
    }
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}
