/**
 * How many connections the HTTP server holds at once, how long a request may take to arrive, and
 * the log line an operator gets when connections are refused.
 *
 * Without these, slow bodies were never cut off (Fastify's `requestTimeout` defaults to 0, off),
 * so 1,100 clients each trickling a body held 1,100 descriptors; at a 1,024-descriptor limit
 * `accept` then failed for everyone, health checks included, and nothing was logged. Now a
 * request that has not fully arrived within the request timeout gets `408 REQUEST_TIMEOUT`, and
 * past `maxConnections` Node closes a new connection at once (its 'drop' event), which leaves
 * descriptors for the store, the modules and the workers, and is logged here.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from 'pino';

/** The default request timeout: the whole request (headers and body) must arrive within it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How long an idle keep-alive connection stays open. Fastify's default, kept on purpose: longer
 * than the 60 s idle timeout of common load balancers, so that the balancer, not the runtime,
 * closes an idle connection and never sends a request on one the runtime is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Used when the open-file limit cannot be read (not Linux) or is unlimited. */
export const FALLBACK_MAX_CONNECTIONS = 4_096;

/**
 * Descriptors kept back from the connection limit: measured 25 open with no connection and 4 more
 * per worker (LMDB's files, pipes, the module watcher), doubled for relays' broker sockets,
 * module uploads and the log.
 */
const RESERVED_BASE = 64;
const RESERVED_PER_WORKER = 8;

/** At most one "refused" line this often; the line counts what was refused since the last one. */
export const REFUSAL_LOG_INTERVAL_MS = 5_000;

/**
 * The default connection limit: the process's open-file limit (soft, the one `accept` hits) less
 * what the runtime itself needs with `workers` workers, but never less than half the limit.
 * `limitsText` is `/proc/self/limits` (Linux; empty where there is none); without a number in its
 * "Max open files" line, `FALLBACK_MAX_CONNECTIONS`.
 *
 * @example
 *   defaultMaxConnections(4, 'Max open files   1024   1024   files');   // 1024 - (64 + 4 * 8) = 928
 */
export function defaultMaxConnections(workers: number, limitsText = readProcLimits()): number {
  const soft = /^Max open files\s+(\d+)/m.exec(limitsText)?.[1];
  if (soft === undefined) return FALLBACK_MAX_CONNECTIONS;
  const limit = Number(soft);
  return Math.max(Math.floor(limit / 2), limit - RESERVED_BASE - RESERVED_PER_WORKER * workers);
}

function readProcLimits(): string {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Node's HTTP server options for a request timeout of `requestTimeoutMs`. Node checks the
 * deadlines of open requests on a timer that runs every 30 s by default, so a 30 s timeout could
 * take up to a minute to fire; the check runs every quarter of the timeout, at most every second,
 * and costs a walk over the requests in progress. The header deadline equals the request's (Node
 * refuses a longer one); it also closes connections that never send a request. Answers that are
 * streams (the live subscription) are not cut: the deadlines end once a request has arrived.
 */
export function requestTimeoutOptions(requestTimeoutMs: number): {
  requestTimeout: number;
  headersTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(1, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
  };
}

/**
 * Log connections `server` refuses at its `maxConnections`, at most one warn line per
 * `intervalMs`: the first refusal after a quiet period is logged at once, later ones are counted
 * and reported together when the interval ends, so a flood of refused connections costs a line
 * every few seconds, not a line each. Returns a function that stops it (and reports what is
 * still counted).
 */
export function logRefusedConnections(server: Server, logger: Logger, intervalMs = REFUSAL_LOG_INTERVAL_MS): () => void {
  let refused = 0;
  let remoteAddress: string | undefined;
  let lastLineAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const report = (): void => {
    timer = undefined;
    if (refused === 0) return;
    logger.warn(
      { refused, maxConnections: server.maxConnections, remoteAddress },
      `refused ${refused} connection(s): ${server.maxConnections} connections are open, the limit (--max-connections)`,
    );
    refused = 0;
    lastLineAt = performance.now();
  };
  const onDrop = (data?: { remoteAddress?: string }): void => {
    refused++;
    remoteAddress = data?.remoteAddress;
    if (timer !== undefined) return;
    const wait = lastLineAt + intervalMs - performance.now();
    if (wait <= 0) return report();
    timer = setTimeout(report, wait);
    timer.unref();
  };
  server.on('drop', onDrop);
  return () => {
    server.off('drop', onDrop);
    if (timer !== undefined) clearTimeout(timer);
    report();
  };
}
