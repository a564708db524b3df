/**
 * A live subscription to the global log over Server-Sent Events: every event from a position on,
 * each as one SSE message whose `id` is its global position, so a client that reconnects with
 * `Last-Event-ID: <position>` resumes right after the last event it got.
 *
 * The reading is the log's one follower loop (`src/projections/log-follower.ts`), the same as a
 * projection's: this class is its handler, which writes each page to the socket and waits for
 * the socket to drain before the next page. `delivered` moves only past events written to the
 * socket, so the switch from catch-up to live can neither skip nor repeat an event.
 *
 * A damaged position in the log (`STORE_CORRUPTED`) ends the subscription after the events before
 * it, with an `event: error` message naming it: closing silently would have the client reconnect
 * forever into the same damage.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { isThaloError, serializeError } from '../errors.js';
import type { ThaloError } from '../errors.js';
import type { LagSource } from './metrics.js';
import { toJson } from '../json-values.js';
import { DEFAULT_READ_PAGE_BYTES } from '../limits.js';
import { LogFollower } from '../projections/index.js';
import { decodeEvent } from '../protocol/decode-event.js';
import type { EventLog } from '../protocol/event-log.js';
import type { StoredEvent } from '../store/types.js';

/** Events read (and written to the socket in one write) per step. */
const PAGE = 500;
/** A comment line this often keeps proxies and idle timeouts from closing a quiet subscription. */
const HEARTBEAT_MS = 15_000;

export class LogSubscription implements LagSource {
  /** The position of the last event written to the client, 0 if none. */
  delivered: number;
  private closed = false;
  private readonly follower: LogFollower;
  private readonly cleanups: (() => void)[] = [];

  /** Start sending the events from position `from` on `response`, whose headers are not yet sent. */
  constructor(
    private readonly log: EventLog,
    private readonly response: ServerResponse,
    from: number,
    private readonly onClose: (subscription: LogSubscription) => void,
  ) {
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
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.cleanups.push(() => clearInterval(heartbeat));
    response.on('close', () => this.close());
    // No polling: a subscription reads again only on a commit notice (or a restart).
    this.follower = new LogFollower(
      log,
      { page: (events) => this.write(events), failed: (error) => this.failed(error), restarted: (position) => this.restarted(position) },
      { from, pageSize: PAGE, maxBytes: DEFAULT_READ_PAGE_BYTES },
    );
    this.cleanups.push(() => void this.follower.stop());
    this.follower.start();
  }

  /** True once the subscription ended (it may end inside its constructor, when the store is closed). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Go on from position `from` on this same connection (a reset of the subscriber's checkpoint):
   * events already sent are sent again, with their own ids, after a `: reset` comment line. The
   * jump happens between two writes, never inside one, so every message stays whole and the ids
   * after the comment run densely from `from`.
   */
  restart(from: number): void {
    if (this.closed) return;
    this.follower.restart(from);
  }

  private async write(events: StoredEvent[]): Promise<void> {
    if (this.closed) return;
    const writable = this.response.write(format(events));
    this.delivered = events[events.length - 1]!.position;
    // A slow client: read no further until its socket has room, so memory stays bounded.
    if (!writable) await Promise.race([once(this.response, 'drain'), once(this.response, 'close')]);
  }

  private restarted(from: number): void {
    this.delivered = from - 1;
    this.response.write(`: reset, from ${from}\n\n`);
  }

  /**
   * A damaged position is said (a reconnect would only meet it again); otherwise the store closed
   * under us (the runtime is stopping) or the socket broke: the client reconnects with
   * Last-Event-ID and resumes where it was. Either way the subscription ends.
   */
  private failed(error: unknown): undefined {
    if (isThaloError(error, 'STORE_CORRUPTED') && !this.closed) void this.sendDamage(error).finally(() => this.close());
    else this.close();
    return undefined;
  }

  /**
   * Sends the events before the damaged position (the page that held it failed whole), then an
   * `event: error` message with the error, `{ code, message, data: { position, path } }`.
   */
  private async sendDamage(error: ThaloError): Promise<void> {
    const position = (error.data as { position?: unknown } | undefined)?.position;
    const next = this.follower.next;
    if (typeof position === 'number' && position > next && !this.follower.restarting) {
      try {
        const events = await this.log.readAll({ from: next, limit: Math.min(PAGE, position - next) });
        if (events.length > 0) {
          this.response.write(format(events));
          this.delivered = events[events.length - 1]!.position;
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

function format(events: StoredEvent[]): string {
  let out = '';
  for (const event of events) out += `id: ${event.position}\ndata: ${toJson(decodeEvent(event))}\n\n`;
  return out;
}
