/**
 * A live subscription to the global log over Server-Sent Events: every event from a position on,
 * each as one SSE message whose `id` is its global position, so a client that reconnects with
 * `Last-Event-ID: <position>` resumes right after the last event it got.
 *
 * Catching up and following are the same loop: read the log from the next position until a read
 * comes back empty, then wait for the engine's commit notice and read again. The log is dense and
 * read by position, and `next` only moves past events that were written to the socket, so the
 * switch from catch-up to live can neither skip nor repeat an event, whatever commits while the
 * catch-up runs.
 *
 * A damaged position in the log (`STORE_CORRUPTED`) ends the subscription after the events before
 * it, with an `event: error` message naming it: closing silently would have the client reconnect
 * forever into the same damage.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Engine, ExecutedEvent } from '../engine/index.js';
import { isThaloError, serializeError } from '../errors.js';
import type { ThaloError } from '../errors.js';
import type { LagSource } from './metrics.js';
import { toJson } from '../json-values.js';
import { DEFAULT_READ_PAGE_BYTES } from '../limits.js';

/** Events read (and written to the socket in one write) per step. */
const PAGE = 500;
/** A comment line this often keeps proxies and idle timeouts from closing a quiet subscription. */
const HEARTBEAT_MS = 15_000;

export class LogSubscription implements LagSource {
  /** The position of the last event written to the client, 0 if none. */
  delivered: number;
  private next: number;
  /** Set by `restart`: where the pump goes on from, applied between two writes. */
  private restartFrom: number | undefined;
  private pumping = false;
  private again = false;
  private closed = false;
  private readonly cleanups: (() => void)[] = [];

  /** Start sending the events from position `from` on `response`, whose headers are not yet sent. */
  constructor(
    private readonly engine: Engine,
    private readonly response: ServerResponse,
    from: number,
    private readonly onClose: (subscription: LogSubscription) => void,
  ) {
    this.next = from;
    this.delivered = from - 1;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // The connection carries nothing after the stream, so it closes with it (and never lingers
      // as a keep-alive connection that delays the server's close).
      connection: 'close',
      // Tell nginx-like proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    // The client's EventSource waits this long before reconnecting on its own.
    response.write(`retry: 1000\n: from ${from}\n\n`);
    this.cleanups.push(engine.onCommit(() => this.wake()));
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.cleanups.push(() => clearInterval(heartbeat));
    response.on('close', () => this.close());
    this.wake();
  }

  /** True once the subscription ended (it may end inside its constructor, when the store is closed). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** New events may be there: read them now, or right after the read in progress. */
  wake(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  /**
   * Go on from position `from` on this same connection (a reset of the subscriber's checkpoint):
   * events already sent are sent again, with their own ids, after a `: reset` comment line. The
   * jump happens between two writes of the pump, never inside one, so every message stays whole
   * and the ids after the comment run densely from `from`.
   */
  restart(from: number): void {
    if (this.closed) return;
    this.restartFrom = from;
    this.wake();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (;;) {
          if (this.restartFrom !== undefined) {
            this.next = this.restartFrom;
            this.delivered = this.next - 1;
            this.restartFrom = undefined;
            this.response.write(`: reset, from ${this.next}\n\n`);
          }
          const events = this.engine.readAll({ from: this.next, limit: PAGE, maxBytes: DEFAULT_READ_PAGE_BYTES });
          if (events.length === 0 || this.closed) break;
          const writable = this.response.write(format(events));
          this.next = events[events.length - 1]!.position + 1;
          this.delivered = this.next - 1;
          // A slow client: stop reading until its socket has room, so memory stays bounded.
          if (!writable) await Promise.race([once(this.response, 'drain'), once(this.response, 'close')]);
        }
      } while (this.again && !this.closed);
    } catch (error) {
      // A damaged position is said (a reconnect would only meet it again); otherwise the store
      // closed under us (the runtime is stopping) or the socket broke: the client reconnects with
      // Last-Event-ID and resumes where it was.
      if (isThaloError(error, 'STORE_CORRUPTED') && !this.closed) this.sendDamage(error);
      this.close();
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Sends the events before the damaged position (the page that held it failed whole), then an
   * `event: error` message with the error, `{ code, message, data: { position, path } }`.
   */
  private sendDamage(error: ThaloError): void {
    const position = (error.data as { position?: unknown } | undefined)?.position;
    if (typeof position === 'number' && position > this.next && this.restartFrom === undefined) {
      try {
        const events = this.engine.readAll({ from: this.next, limit: Math.min(PAGE, position - this.next) });
        if (events.length > 0) {
          this.response.write(format(events));
          this.next = events[events.length - 1]!.position + 1;
          this.delivered = this.next - 1;
        }
      } catch {
        // The error below still names the damage.
      }
    }
    this.response.write(`event: error\ndata: ${JSON.stringify(serializeError(error))}\n\n`);
  }

  /** End the subscription (the client went away, or the server is closing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (!this.response.writableEnded) this.response.end();
    this.onClose(this);
  }
}

function format(events: ExecutedEvent[]): string {
  let out = '';
  for (const event of events) out += `id: ${event.position}\ndata: ${toJson(event)}\n\n`;
  return out;
}
