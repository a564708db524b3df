/**
 * Reading the log: one aggregate's stream, or the global log from a position.
 *
 *   GET /v1/aggregates/:aggregate/:id/events?from=&limit=&backwards=
 *   GET /v1/events?from=&limit=
 *
 * Both answer one page. A stream page says where the next one starts (`next`), or `next: null`
 * at the end of the stream. The global log never ends: its `next` is always the position to read
 * from next, and `lastPosition` says how far the log went when the page was read.
 */
import type { FastifyInstance } from 'fastify';
import { streamName } from '../../aggregate-name.js';
import type { LogPage, StreamPage } from '../../protocol/http.js';
import { DEFAULT_READ_PAGE_BYTES } from '../../limits.js';
import { ApiError } from '../api-errors.js';
import { queryInteger } from '../command-input.js';
import type { RouteContext } from './context.js';

export const DEFAULT_PAGE = 1_000;
export const MAX_PAGE = 10_000;

interface PageQuery {
  from?: string;
  limit?: string;
  backwards?: string;
}

function flag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ApiError('INVALID_ARGUMENT', `query parameter ${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function registerReadRoutes(app: FastifyInstance, { engine }: RouteContext): void {
  app.get<{ Params: { aggregate: string; id: string }; Querystring: PageQuery }>('/v1/aggregates/:aggregate/:id/events', async (request) => {
    const { aggregate, id } = request.params;
    const backwards = flag(request.query.backwards, 'backwards');
    const limit = queryInteger(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const from = request.query.from === undefined ? undefined : queryInteger(request.query.from, 'from', 1, backwards ? 0 : 1);
    const events = engine.readStream(aggregate, id, { from, limit, backwards, maxBytes: DEFAULT_READ_PAGE_BYTES });
    const last = events.at(-1);
    let next: number | null = null;
    if (last && backwards) {
      next = last.seq > 1 ? last.seq - 1 : null;
    } else if (last) {
      // A page may end before `limit` because it reached its byte bound: then the stream goes on.
      const more = events.length === limit || engine.readStream(aggregate, id, { from: last.seq + 1, limit: 1 }).length > 0;
      next = more ? last.seq + 1 : null;
    }
    return { aggregate, id, stream: streamName(aggregate, id), events, next } satisfies StreamPage;
  });

  app.get<{ Querystring: PageQuery }>('/v1/events', async (request) => {
    const from = queryInteger(request.query.from, 'from', 1, 1);
    const limit = queryInteger(request.query.limit, 'limit', DEFAULT_PAGE, 1, MAX_PAGE);
    const events = engine.readAll({ from, limit, maxBytes: DEFAULT_READ_PAGE_BYTES });
    const last = events.at(-1);
    return { events, next: last ? last.position + 1 : from, lastPosition: Math.max(engine.lastPosition(), last?.position ?? 0) } satisfies LogPage;
  });
}
