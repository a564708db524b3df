/**
 * Errors as the HTTP API shows them: the one place that turns an error code into a status code.
 *
 * Every error body is `{ code, message, data? }`. `code` is the engine's stable `ThaloErrorCode`
 * when the engine raised the error, or one of the `ApiErrorCode`s below when the server refused
 * the request before it reached the engine. Clients branch on `code`, never on the message.
 */
import type { ErrorObject } from 'ajv';
import type { FastifyReply } from 'fastify';
import { ThaloError } from '../errors.js';
import type { ThaloErrorCode } from '../errors.js';
import type { ErrorBody as WireErrorBody } from '../protocol/http.js';
import { validationFailure } from './request-validation.js';

/** Codes the server raises itself, for requests that never reach the engine. */
export type ApiErrorCode =
  /** No `Authorization: Bearer <token>` header, or the wrong token, while the runtime has one. */
  | 'UNAUTHORIZED'
  /** No such route (the path or the method is unknown). */
  | 'ROUTE_NOT_FOUND'
  /** The body is not parseable (bad JSON, empty JSON body). */
  | 'MALFORMED_REQUEST'
  /** A body of a content type the route does not take. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** A path segment past the server's limit (1,024 characters as sent). */
  | 'URI_TOO_LONG'
  /** The request's headers are larger than Node's HTTP parser accepts (16 KiB by default). */
  | 'HEADERS_TOO_LARGE'
  /** The request did not arrive completely within `--request-timeout` (30 s by default). */
  | 'REQUEST_TIMEOUT'
  /** The runtime is shutting down: it finishes what it has and takes nothing new. */
  | 'DRAINING'
  /** No in-process projection, relay or remote subscriber has that name. */
  | 'PROJECTION_NOT_FOUND'
  /**
   * A remote subscriber asked for the name of an in-process projection or relay that runs now:
   * acking under that name would fight the projection over one checkpoint.
   */
  | 'SUBSCRIBER_NAME_IN_USE'
  /** `DELETE /v1/subscribers/:name` of a name neither connected nor with a stored checkpoint. */
  | 'SUBSCRIBER_NOT_FOUND'
  /**
   * A new remote subscriber name while the runtime knows `--max-subscribers` names already; names
   * it knows keep working. 409: the registry's state is in the way, and deleting names clears it.
   */
  | 'TOO_MANY_SUBSCRIBERS'
  /** `GET /v1/cluster` on a runtime started without `--advertise`: it runs alone. */
  | 'CLUSTER_NOT_ENABLED'
  /** `GET /` or `/console` while the console's files were not built (`npm run build:console`). */
  | 'CONSOLE_NOT_BUILT';

export type ErrorCode = ThaloErrorCode | ApiErrorCode;

/** The body of every error response (src/protocol/http.ts), with the codes the server knows. */
export type ErrorBody = WireErrorBody<ErrorCode>;

/** An error the server raises with an `ApiErrorCode` (or an engine code, for checks done at the edge). */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The HTTP status of an error code. Engine codes not listed are faults (500): a trap, a worker
 * lost, a failed write. `COMMAND_TIMEOUT` is 504: the command's guest code did not answer within
 * the runtime's deadline, which a client may retry like any gateway timeout.
 */
const STATUS: Partial<Record<ErrorCode, number>> = {
  MALFORMED_REQUEST: 400,
  INVALID_ARGUMENT: 400,
  INVALID_AGGREGATE_ID: 400,
  INVALID_PAYLOAD: 400,
  INVALID_STREAM_NAME: 400,
  MODULE_INVALID: 400,
  UNAUTHORIZED: 401,
  CLUSTER_TOKEN_INVALID: 401,
  ROUTE_NOT_FOUND: 404,
  AGGREGATE_NOT_FOUND: 404,
  UNKNOWN_COMMAND: 404,
  PROJECTION_NOT_FOUND: 404,
  CLUSTER_NOT_ENABLED: 404,
  SUBSCRIBER_NOT_FOUND: 404,
  WRONG_EXPECTED_VERSION: 409,
  COMMAND_ID_REUSED: 409,
  SUBSCRIBER_NAME_IN_USE: 409,
  // Another node of the cluster runs that projection or relay now: ask that node.
  LEASE_NOT_HELD: 409,
  TOO_MANY_SUBSCRIBERS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  COMMAND_REJECTED: 422,
  // The command was understood, but what it would append is over the runtime's limits.
  TOO_MANY_EVENTS: 422,
  // The module cannot show its state: the request is understood, the aggregate cannot answer it.
  SNAPSHOTS_UNSUPPORTED: 422,
  EVENT_TOO_LARGE: 422,
  METADATA_TOO_LARGE: 413,
  DRAINING: 503,
  CONSOLE_NOT_BUILT: 503,
  ENGINE_STOPPED: 503,
  STORE_CLOSED: 503,
  // PostgreSQL cannot be reached: the runtime reconnects with a backoff, /readyz says not ready meanwhile.
  STORE_UNAVAILABLE: 503,
  // The node lost its cluster lease; the client may send the command to another node, or retry.
  NODE_NOT_IN_CLUSTER: 503,
  // A forwarded request reached another process than the node it was sent to; the sender runs it itself.
  NOT_ADDRESSED_NODE: 503,
  // 502 Bad Gateway: the node forwarded the command and its owner's answer never came back.
  FORWARD_OUTCOME_UNKNOWN: 502,
  COMMAND_TIMEOUT: 504,
  // 507 Insufficient Storage (RFC 4918): the data directory is full; reads go on, writes succeed again once there is room.
  STORE_FULL: 507,
};

export function statusOf(code: string): number {
  return STATUS[code as ErrorCode] ?? 500;
}

/** Fastify's own errors (body parsing, limits) in our vocabulary. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
};

/** The status and body for any error a route or hook threw. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  // By class, not by shape: Node's and Fastify's errors also carry a string `code`.
  if (error instanceof ApiError || error instanceof ThaloError) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.data !== undefined) body.data = error.data;
    return { status: statusOf(error.code), body };
  }
  const fastifyError = error as {
    code?: string;
    statusCode?: number;
    message?: string;
    validation?: ErrorObject[];
    validationContext?: string;
  };
  // A request that failed its route's schema (FST_ERR_VALIDATION): the message names the field.
  if (Array.isArray(fastifyError.validation)) {
    const { code, message } = validationFailure(fastifyError.validation, fastifyError.validationContext ?? 'request');
    return { status: statusOf(code), body: { code, message } };
  }
  const mapped = typeof fastifyError.code === 'string' ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return { status: statusOf(mapped), body: { code: mapped, message: fastifyError.message ?? mapped } };
  // Fastify answers a body it could not parse with a 400 (a SyntaxError from JSON.parse, or a
  // content-type parser's error); anything else without a known code is a fault of ours.
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: 400, body: { code: 'MALFORMED_REQUEST', message: fastifyError.message ?? 'malformed request' } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
}

/** Answer `reply` with the status and body of `error`. */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body } = errorResponse(error);
  return reply.code(status).send(body);
}
