/**
 * A small client of the runtime's HTTP API (docs/http-api.md), on Node's global `fetch`. The
 * `thalo` CLI commands use it; any Node program may too.
 *
 * @example
 *   const client = new ThaloClient({ url: 'http://127.0.0.1:4433' });
 *   const { events } = await client.execute('counter', 'abc123', 'Increment', { amount: 10 });
 */
import type { ExecuteOptions, ExecuteResult, ExecutedEvent } from '../protocol/commands.js';
// The API's vocabulary is shared with the server (src/protocol/http.ts), not copied here.
import { HEADERS } from '../protocol/http.js';
import type {
  AckResult,
  BatchCommandInput,
  BatchResponse,
  BatchResult,
  ClusterStatus,
  LogPage,
  ModuleInfo,
  ModuleList,
  ProjectionEntry,
  ProjectionList,
  PublishedModule,
  StreamPage,
  SubscriberDeleted,
} from '../protocol/http.js';
import { readServerSentEvents } from './server-sent-events.js';

/**
 * An answer other than 2xx, with the runtime's stable error `code` (or `RUNTIME_UNREACHABLE`).
 * Not a `ThaloError`: its code may be one only the server or the client raises (`UNAUTHORIZED`,
 * `HTTP_502`), so `isThaloError` is false for it; check `instanceof ApiClientError` and `code`.
 */
export class ApiClientError extends Error {
  constructor(
    /** The HTTP status, 0 when the runtime could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ApiClientError';
  }
}

export interface ThaloClientOptions {
  /** Base URL of the runtime. Default `http://127.0.0.1:4433`. */
  url?: string;
  token?: string;
}

export interface SubscribeOptions {
  /**
   * First global position to deliver. Default 1. With `subscriber`, only used while the
   * subscriber has no checkpoint yet.
   */
  from?: number;
  /**
   * Subscribe as this named remote subscriber: the runtime starts right after the subscriber's
   * acked checkpoint (see `ack`), so what was received but not acked before a crash comes again.
   * Reconnects within this subscription still resume right after the last event received.
   */
  subscriber?: string;
  /** Stops the subscription. */
  signal?: AbortSignal;
  /**
   * Reconnect after a dropped connection (with Last-Event-ID), this many ms later; -1 never.
   * Without it, the delay the stream's `retry:` line asks for (the runtime sends 1,000), else 1,000.
   */
  reconnectMs?: number;
}

const seg = encodeURIComponent;

export class ThaloClient {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(options: ThaloClientOptions = {}) {
    this.url = (options.url ?? 'http://127.0.0.1:4433').replace(/\/+$/, '');
    this.token = options.token;
  }

  /** Execute one command. Options travel as the `Thalo-*` headers. */
  execute(
    aggregate: string,
    id: string,
    command: string,
    payload: unknown = {},
    options: Omit<ExecuteOptions, 'headers'> = {},
  ): Promise<ExecuteResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.expectedVersion !== undefined) headers[HEADERS.expectedVersion] = String(options.expectedVersion);
    if (options.commandId !== undefined) headers[HEADERS.commandId] = options.commandId;
    if (options.correlationId !== undefined) headers[HEADERS.correlationId] = options.correlationId;
    if (options.causationId !== undefined) headers[HEADERS.causationId] = options.causationId;
    return this.request('POST', `/v1/aggregates/${seg(aggregate)}/${seg(id)}/commands/${seg(command)}`, {
      headers,
      body: JSON.stringify(payload),
    });
  }

  /** Execute many commands in one request; each has its own result. */
  async batch(commands: BatchCommandInput[]): Promise<BatchResult[]> {
    const { results } = await this.request<BatchResponse>('POST', '/v1/commands', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ commands }),
    });
    return results;
  }

  readStream(aggregate: string, id: string, options: { from?: number; limit?: number; backwards?: boolean } = {}): Promise<StreamPage> {
    return this.request('GET', `/v1/aggregates/${seg(aggregate)}/${seg(id)}/events${query(options)}`);
  }

  readAll(options: { from?: number; limit?: number } = {}): Promise<LogPage> {
    return this.request('GET', `/v1/events${query(options)}`);
  }

  modules(): Promise<ModuleList> {
    return this.request('GET', '/v1/modules');
  }

  /** Upload a module's bytes as aggregate `name`; the runtime validates it before it serves. */
  async publish(name: string, bytes: Uint8Array): Promise<ModuleInfo> {
    const { module } = await this.request<PublishedModule>('PUT', `/v1/modules/${seg(name)}`, {
      headers: { 'content-type': 'application/wasm' },
      body: bytes,
    });
    return module;
  }

  /**
   * Every event of the global log from `from` on, live, over Server-Sent Events. A dropped
   * connection is resumed with `Last-Event-ID`, so no event is missed or repeated. Ends when
   * `signal` aborts (or, with `reconnectMs: -1`, when the connection drops).
   *
   * @example
   *   // A remote projection: process, then ack; after a crash it starts after the last ack.
   *   for await (const event of client.subscribe({ subscriber: 'billing' })) {
   *     await handle(event);
   *     await client.ack('billing', event.position);
   *   }
   */
  async *subscribe(options: SubscribeOptions = {}): AsyncGenerator<ExecutedEvent> {
    let last = (options.from ?? 1) - 1;
    // A named subscriber starts where the runtime says (its checkpoint), so it sends no
    // Last-Event-ID until it has received something in this subscription.
    let received = options.subscriber === undefined;
    const reconnectMs = options.reconnectMs ?? 1_000;
    // The delay a stream's `retry:` line asks for, used when the caller set none (as EventSource does).
    let retryMs = reconnectMs;
    for (;;) {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...this.authorization() };
      if (received && last > 0) headers['last-event-id'] = String(last);
      const params = new URLSearchParams();
      if (options.subscriber !== undefined) {
        params.set('subscriber', options.subscriber);
        if (options.from !== undefined) params.set('from', String(options.from));
      } else {
        params.set('from', String(last + 1));
      }
      let response: Response | undefined;
      try {
        response = await fetch(`${this.url}/v1/subscribe?${params}`, { headers, signal: options.signal });
        if (!response.ok) throw await errorOf(response);
        for await (const message of readServerSentEvents(response.body!)) {
          if (message.retry !== undefined && options.reconnectMs === undefined) retryMs = message.retry;
          if (message.id !== undefined) {
            last = Number(message.id);
            received = true;
          }
          // The runtime ends a subscription with an error message when it cannot go on (a
          // damaged position in its store): retrying would meet it again, so it is thrown.
          if (message.event === 'error') throw streamError(message.data);
          if (message.data !== undefined) yield JSON.parse(message.data) as ExecutedEvent;
        }
      } catch (error) {
        if (options.signal?.aborted) return;
        // A refusal (401, 400) will not change by retrying; a dropped connection may.
        if (error instanceof ApiClientError && error.status !== 0 && error.status !== 503) throw error;
        if (reconnectMs < 0) throw error instanceof ApiClientError ? error : unreachable(this.url, error);
      }
      if (options.signal?.aborted || reconnectMs < 0) return;
      await new Promise((resolveWait) => setTimeout(resolveWait, retryMs));
    }
  }

  /**
   * Store `position` as subscriber `name`'s checkpoint: everything up to it is processed. Resolves
   * once the runtime stored it durably, with the checkpoint now stored (never lower than before).
   */
  ack(name: string, position: number): Promise<AckResult> {
    return this.request('POST', `/v1/subscribers/${seg(name)}/ack`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ position }),
    });
  }

  /**
   * Forget remote subscriber `name`: its open streams end and its checkpoint is removed. Fails
   * with `SUBSCRIBER_NOT_FOUND` (404) when the runtime knows no such subscriber.
   */
  deleteSubscriber(name: string): Promise<SubscriberDeleted> {
    return this.request('DELETE', `/v1/subscribers/${seg(name)}`);
  }

  /** The runtime's projections, relays and remote subscribers, with their checkpoints and lag. */
  projections(): Promise<ProjectionList> {
    return this.request('GET', '/v1/projections');
  }

  /**
   * Move a projection's, relay's or subscriber's checkpoint to `position` (default 0), so that it
   * replays from the position after it. Resolves with its info after the reset.
   */
  resetProjection(name: string, position = 0): Promise<ProjectionEntry> {
    return this.request('POST', `/v1/projections/${seg(name)}/reset`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ position }),
    });
  }

  /**
   * The cluster as the node at `url` sees it: the live nodes, their lease age and share of the
   * aggregates, and who holds each projection's and relay's lease. Fails with
   * `CLUSTER_NOT_ENABLED` (404) on a runtime that runs alone.
   */
  cluster(): Promise<ClusterStatus> {
    return this.request('GET', '/v1/cluster');
  }

  private authorization(): Record<string, string> {
    return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
  }

  private async request<T>(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, { method, headers: { ...init.headers, ...this.authorization() }, body: init.body });
    } catch (error) {
      throw unreachable(this.url, error);
    }
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }
}

function query(options: Record<string, number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function unreachable(url: string, error: unknown): ApiClientError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new ApiClientError(
    0,
    'RUNTIME_UNREACHABLE',
    `cannot reach the runtime at ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
  );
}

async function errorOf(response: Response): Promise<ApiClientError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; data?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string')
      return new ApiClientError(response.status, body.code, body.message, body.data);
  } catch {
    // not a JSON error body: fall through
  }
  return new ApiClientError(response.status, `HTTP_${response.status}`, `HTTP ${response.status}: ${text.slice(0, 200)}`);
}

/**
 * The error of an `event: error` message, `{ code, message, data }`, as the error response it
 * stands for: the runtime ends a subscription this way only for a fault on its side (500).
 */
function streamError(data: string | undefined): ApiClientError {
  try {
    const body = JSON.parse(data ?? '') as { code?: unknown; message?: unknown; data?: unknown };
    if (typeof body.code === 'string' && typeof body.message === 'string')
      return new ApiClientError(500, body.code, body.message, body.data);
  } catch {
    // not a JSON error body: fall through
  }
  return new ApiClientError(500, 'INTERNAL', `the runtime ended the subscription with an error: ${String(data).slice(0, 200)}`);
}
