/**
 * The console's one way to the runtime's HTTP API (docs/http-api.md): every request carries the
 * token the user gave, kept in this tab's sessionStorage only (gone when the tab closes, never
 * shared with other tabs or written to disk by the page). A 401 asks for the token again.
 */
import type { ErrorBody } from '../../src/protocol/http.js';

const TOKEN_KEY = 'thalo.token';

/** An answer of the API that is an error: its code, message and data as the API sent them. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`${body.code}: ${body.message}`);
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Call `listener` each time the API refuses the token (or its absence). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null || value === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const current = token();
  return current === null ? extra : { ...extra, authorization: `Bearer ${current}` };
}

async function failure(response: Response): Promise<ApiFailure> {
  let body: ErrorBody;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    body = { code: 'HTTP_' + response.status, message: response.statusText || `HTTP ${response.status}` };
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  return new ApiFailure(response.status, body);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A JSON request to the API; rejects with `ApiFailure` on an error answer. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = 'GET', body, signal } = options;
  const init: RequestInit = { method, signal, headers: headers(options.headers) };
  if (body instanceof ArrayBuffer || body instanceof Uint8Array) {
    init.body = body as BodyInit;
    (init.headers as Record<string, string>)['content-type'] = 'application/wasm';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** The Prometheus text of `GET /metrics`. */
export async function metricsText(signal?: AbortSignal): Promise<string> {
  const response = await fetch('/metrics', { headers: headers(), signal });
  if (!response.ok) throw await failure(response);
  return response.text();
}

/**
 * Follow `GET /v1/subscribe?from=` (Server-Sent Events) until `signal` aborts, calling `onEvent`
 * with each event's JSON. Read with fetch rather than EventSource, which cannot send the token.
 * `onOpen` is called once the runtime accepted the subscription. Resolves when the stream ends;
 * rejects with `ApiFailure` when it is refused.
 */
export async function follow(
  from: number,
  onEvent: (data: unknown) => void,
  signal: AbortSignal,
  onOpen: () => void = () => {},
): Promise<void> {
  const response = await fetch(`/v1/subscribe?from=${from}`, { headers: headers({ accept: 'text/event-stream' }), signal });
  if (!response.ok || response.body === null) throw await failure(response);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Messages end with a blank line; a message may arrive in pieces.
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of message.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const parsed = JSON.parse(data.join('\n')) as unknown;
      if (event === 'error') throw new ApiFailure(500, parsed as ErrorBody);
      onEvent(parsed);
    }
  }
}
