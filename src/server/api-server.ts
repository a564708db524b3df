/**
 * The HTTP API of `thalo-runtime` (docs/http-api.md): a Fastify instance with the routes of
 * `routes/`, the token check, the drain switch and the one error handler that turns errors into
 * status codes (`api-errors.ts`).
 *
 * @example
 *   const consumers = new Consumers(engine.log);
 *   const api = new ApiServer({ engine, consumers, modules, logger, maxPayloadBytes: 1 << 20, token });
 *   const url = await api.listen('127.0.0.1', 4433);
 *   // on SIGTERM:
 *   api.startDraining(); await engine.stop(); await api.close();
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { ClusterNode } from '../cluster/index.js';
import { CLUSTER_HEADERS } from '../cluster/index.js';
import type { Engine } from '../engine/index.js';
import { Consumers } from '../projections/index.js';
import { toJson } from '../json-values.js';
import { ApiError, errorResponse, sendError } from './api-errors.js';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  defaultMaxConnections,
  logRefusedConnections,
  requestTimeoutOptions,
} from './connection-limits.js';
import type { LogSubscription } from './log-subscription.js';
import { RuntimeMetrics } from './metrics.js';
import type { LeaseStats } from './metrics.js';
import { registerConsole } from './console.js';
import { compileRequestSchema } from './request-validation.js';
import type { ModuleDirectory } from './module-directory.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerCommandRoutes } from './routes/commands.js';
import type { RouteContext } from './routes/context.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerModuleRoutes } from './routes/modules.js';
import { registerProjectionRoutes } from './routes/projections.js';
import { registerReadRoutes } from './routes/reads.js';
import { registerStreamRoutes } from './routes/streams.js';
import { registerSubscribeRoute } from './routes/subscribe.js';
import { registerSubscriberRoutes } from './routes/subscribers.js';
import { SubscriberRegistry } from './subscriber-registry.js';

/** The longest path segment, in characters as sent (percent-encoded). */
const MAX_PARAM_LENGTH = 1024;

/** How long `close()` lets open connections finish before it closes them. */
const CLOSE_GRACE_MS = 500;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the token and while draining (health checks). */
    public?: boolean;
  }
}

export interface ApiServerOptions {
  engine: Engine;
  /** The in-process projections and relays, listed and reset by the API. Default: none. */
  consumers?: Consumers;
  modules: ModuleDirectory;
  logger: Logger;
  /** The engine's payload limit, in bytes: request bodies are limited to match. */
  maxPayloadBytes: number;
  /** When set, every request but the health checks needs `Authorization: Bearer <token>`. */
  token?: string;
  /** A request (headers and body) must arrive within this, or it gets 408. Default 30 s. */
  requestTimeoutMs?: number;
  /** Connections held at once; more are closed at once, and logged. Default: from the open-file limit. */
  maxConnections?: number;
  /** Remote subscriber names known at once; a new one past it is refused. Default 1,000. */
  maxSubscribers?: number;
  /** The built console's folder, served at `/` and `/console/`. Default: the package's dist/console/. */
  consoleDirectory?: string;
  /** A cluster node's leases, counted in the metrics and given to the routes. Default: none (a single node). */
  leases?: LeaseStats;
  /** This node's membership and forwarding, when it runs in a cluster (`--advertise`). */
  cluster?: ClusterNode;
}

export class ApiServer {
  readonly app: FastifyInstance;
  readonly metrics: RuntimeMetrics;
  /** The remote subscribers (`GET /v1/subscribe?subscriber=`), their streams and checkpoints. */
  readonly subscribers: SubscriberRegistry;
  private readonly subscriptions = new Set<LogSubscription>();
  private draining = false;
  private readonly logger: Logger;
  private readonly stopRefusalLog: () => void;

  constructor(options: ApiServerOptions) {
    this.logger = options.logger;
    const authorized = options.token === undefined ? undefined : tokenCheck(options.token);
    const consumers = options.consumers ?? new Consumers(options.engine.log);
    this.subscribers = new SubscriberRegistry(options.engine.log, consumers, options.maxSubscribers);
    this.metrics = new RuntimeMetrics(options.engine, consumers, () => this.subscribers.list(), options.cluster, options.leases);
    const timeouts = requestTimeoutOptions(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    // No Fastify logger: a log line per request would cost more than the command itself. Errors
    // that are faults (500) are logged by the error handler below. Fastify's own 503 while it
    // closes has no `code`; with it off, the drain hook below answers those requests instead.
    this.app = Fastify({
      logger: false,
      // Fastify's own default (0) let a slow body hold its connection forever.
      requestTimeout: timeouts.requestTimeout,
      http: timeouts,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      bodyLimit: options.maxPayloadBytes + 1024,
      return503OnClosing: false,
      // Fastify's default (100) refused valid ids of 101 to 256 bytes before the engine could
      // judge them; a 256-byte stream name percent-encoded takes up to 768 characters.
      routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
      // Errors Fastify answers before any route runs, in our vocabulary (they had no `code`, or
      // a Fastify one).
      frameworkErrors: (error, _request, reply) => {
        const code = (error as { code?: string }).code;
        const apiError =
          code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? new ApiError('URI_TOO_LONG', `a path segment is longer than ${MAX_PARAM_LENGTH} characters`)
            : new ApiError('MALFORMED_REQUEST', `the URL cannot be decoded: ${error.message}`);
        void sendError(reply as FastifyReply, apiError);
      },
      clientErrorHandler: (error, socket) => answerClientError(error, socket, timeouts.requestTimeout),
    });
    // The API takes JSON (and modules as binary). With Fastify's text/plain parser a text body
    // reached the routes as a string and was refused as a bad payload (400); without it, it gets
    // what it is: a body of a type the API does not take (415).
    this.app.removeContentTypeParser('text/plain');
    // Every route's params, query, headers and body are checked against its schema by our own
    // Ajv (no coercion, unknown fields kept to be refused: request-validation.ts).
    this.app.setValidatorCompiler(compileRequestSchema);
    // An event stored before the value rule may hold an integer past 2^53 (a BigInt), which plain
    // JSON.stringify refuses: it is written as a decimal string instead (src/json-values.ts).
    this.app.setReplySerializer((payload) => toJson(payload));
    this.app.server.maxConnections = options.maxConnections ?? defaultMaxConnections(options.engine.queueDepths().length);
    this.stopRefusalLog = logRefusedConnections(this.app.server, this.logger);
    const context: RouteContext = {
      engine: options.engine,
      consumers,
      metrics: this.metrics,
      maxPayloadBytes: options.maxPayloadBytes,
      modules: options.modules,
      subscriptions: this.subscriptions,
      subscribers: this.subscribers,
      ...(options.leases === undefined ? {} : { leases: options.leases }),
      draining: () => this.draining,
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
      authorized: (request) => authorized === undefined || authorized(request.headers.authorization),
    };

    const nodeId = options.cluster?.options.nodeId;
    this.app.addHook('onRequest', async (request, reply) => {
      // Which node answered (a forwarded command's answer carries its owner's instead).
      if (nodeId !== undefined) reply.header(CLUSTER_HEADERS.node, nodeId);
      // A request forwarded to a node that left, at an address another runtime has taken since.
      const addressed = request.headers[CLUSTER_HEADERS.forwardedTo];
      if (addressed !== undefined && addressed !== nodeId) throw misaddressed(addressed, nodeId);
      if (request.routeOptions.config.public) return;
      if (this.draining) {
        reply.header('connection', 'close');
        throw new ApiError('DRAINING', 'the runtime is shutting down and takes no new requests');
      }
      if (authorized && !authorized(request.headers.authorization)) {
        reply.header('www-authenticate', 'Bearer realm="thalo"');
        throw new ApiError('UNAUTHORIZED', 'this runtime needs "Authorization: Bearer <token>" with its token');
      }
    });
    this.app.setErrorHandler((error, request, reply) => {
      const { status, body } = errorResponse(error);
      if (status >= 500 && status !== 503 && status !== 504) {
        this.logger.error({ err: error, method: request.method, url: request.url, code: body.code }, 'request failed');
      }
      return reply.code(status).send(body);
    });
    this.app.setNotFoundHandler((request, reply) =>
      sendError(reply, new ApiError('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );

    registerCommandRoutes(this.app, context);
    registerReadRoutes(this.app, context);
    registerStreamRoutes(this.app, context);
    registerSubscribeRoute(this.app, context);
    registerSubscriberRoutes(this.app, context);
    registerProjectionRoutes(this.app, context);
    registerModuleRoutes(this.app, context);
    registerHealthRoutes(this.app, context);
    registerClusterRoutes(this.app, context);
    registerConsole(this.app, options.consoleDirectory);
  }

  /** Listen and return the base URL (port 0 picks a free port). */
  async listen(host: string, port: number): Promise<string> {
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    if (address === null || typeof address === 'string') throw new Error(`unexpected listen address ${String(address)}`);
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}`;
  }

  /** From now on every request but the health checks gets 503 DRAINING, and readiness fails. */
  startDraining(): void {
    this.draining = true;
  }

  /**
   * End the live subscriptions (clients resume with Last-Event-ID) and close the server once the
   * requests in progress have their answers. Call it after the engine stopped, so those answers
   * exist.
   */
  async close(): Promise<void> {
    this.draining = true;
    for (const subscription of [...this.subscriptions]) subscription.close();
    // Node's server.close() waits for every connection that is not idle, and a connection a
    // client opened without sending a request yet (fetch and load balancers open them ahead)
    // never counts as idle: it would hold the exit until the client gives up on it. Every
    // request we accepted has its answer by now, so after a grace period the rest is closed.
    const grace = setTimeout(() => this.app.server.closeAllConnections(), CLOSE_GRACE_MS);
    try {
      await this.app.close();
    } finally {
      clearTimeout(grace);
      this.stopRefusalLog();
    }
  }
}

/**
 * A request Node's HTTP parser could not read (a body shorter than its Content-Length, a broken
 * chunk, a malformed header): answered with an error body like any other, then the connection is
 * closed, since the parser cannot tell where the next request would start.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex, requestTimeoutMs: number): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError('HEADERS_TOO_LARGE', 'the request headers are over the size Node accepts')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError('REQUEST_TIMEOUT', `the request did not arrive completely within ${requestTimeoutMs} ms (--request-timeout)`)
        : new ApiError('MALFORMED_REQUEST', `the request cannot be parsed as HTTP/1.1 (${error.code ?? error.message})`);
  const { status, body } = errorResponse(apiError);
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/**
 * The check of an `Authorization: Bearer <token>` header. The scheme is matched without regard to
 * case, as HTTP defines auth schemes (RFC 9110, section 11.1: `bearer` and `BEARER` are the same
 * scheme); the token is compared in constant time, through digests of equal length, so neither
 * its content nor its length leaks through the answer's timing.
 */
function tokenCheck(token: string): (header: string | undefined) => boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = digest(token);
  return (header) => {
    const credentials = header === undefined ? undefined : /^bearer +(.*)$/i.exec(header)?.[1];
    return credentials !== undefined && timingSafeEqual(digest(credentials), expected);
  };
}

/** `NOT_ADDRESSED_NODE`: a forwarded request for node `addressed` reached this runtime, which is not it. */
function misaddressed(addressed: string | string[], nodeId: string | undefined): ApiError {
  const was = `it was forwarded to node ${String(addressed)}, which no longer answers at this address`;
  return new ApiError(
    'NOT_ADDRESSED_NODE',
    nodeId === undefined
      ? `this runtime is not a cluster node (${was}); nothing was run`
      : `this is node ${nodeId} (${was}); nothing was run`,
    { node: addressed },
  );
}
