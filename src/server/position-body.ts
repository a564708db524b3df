/**
 * The small JSON bodies of the checkpoint routes: `{ "position": N }` for an ack (required) and
 * for a reset (optional, the whole body too). Checks here name the field at fault.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from './api-errors.js';

/**
 * Parse `application/json` bodies in `context` (an encapsulated Fastify context: the rest of the
 * API keeps Fastify's parser) so that an empty body reads as no body. `POST …/reset` with a JSON
 * content type and nothing after it means "reset to 0", as without the header; everywhere else
 * an empty JSON body stays a `MALFORMED_REQUEST`.
 */
export function acceptEmptyJson(context: FastifyInstance): void {
  context.removeContentTypeParser('application/json');
  context.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ApiError('MALFORMED_REQUEST', `the body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}

/**
 * The position of `{ "position": N }`: an integer from 0 to the largest safe one. Without
 * `required`, an absent body or an absent field gives `fallback`. Unknown fields are refused, so
 * a misspelt `"positon"` fails instead of resetting to 0.
 */
export function positionOf(body: unknown, options: { required: boolean; fallback?: number }): number {
  if (body === undefined && !options.required) return options.fallback ?? 0;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('INVALID_ARGUMENT', `the body must be a JSON object {"position": <integer>}, got ${body === undefined ? 'no body' : body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}`);
  }
  for (const key of Object.keys(body)) {
    if (key !== 'position') throw new ApiError('INVALID_ARGUMENT', `the body has an unknown field ${JSON.stringify(key)} (it takes only "position")`);
  }
  const position = (body as { position?: unknown }).position;
  if (position === undefined && !options.required) return options.fallback ?? 0;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
    throw new ApiError('INVALID_ARGUMENT', `body field position must be a non-negative integer, got ${JSON.stringify(position) ?? 'nothing'}`);
  }
  return position;
}

/** Refuse a position past the log's last one: nothing there has been delivered or can be acked. */
export function checkNotPastHead(position: number, lastPosition: number): void {
  if (position > lastPosition) {
    throw new ApiError('INVALID_ARGUMENT', `body field position ${position} is past the log's last position ${lastPosition}`, { position, lastPosition });
  }
}
