/**
 * The small JSON bodies of the checkpoint routes: `{ "position": N }` for an ack (required) and
 * for a reset (optional, the whole body too), as schemas that `request-validation.ts` checks.
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

const POSITION = {
  type: 'integer',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: `a non-negative integer (at most ${Number.MAX_SAFE_INTEGER})`,
};

/**
 * The body schemas of `{ "position": N }`: required for an ack; for a reset the field and the
 * whole body are optional (no body, or `{}`, means 0). Unknown fields are refused, so a misspelt
 * `"positon"` fails instead of resetting to 0.
 */
export const POSITION_BODY = {
  required: {
    type: 'object',
    required: ['position'],
    additionalProperties: false,
    properties: { position: POSITION },
    description: 'a JSON object {"position": <integer>}',
  },
  optional: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { position: POSITION },
    description: 'a JSON object {"position": <integer>}',
  },
} as const;

/** A position body as the schemas above hand it over (`null` for no body). */
export type PositionBody = { position?: number } | null;

/** Refuse a position past the log's last one: nothing there has been delivered or can be acked. */
export function checkNotPastHead(position: number, lastPosition: number): void {
  if (position > lastPosition) {
    throw new ApiError('INVALID_ARGUMENT', `body field position ${position} is past the log's last position ${lastPosition}`, {
      position,
      lastPosition,
    });
  }
}
