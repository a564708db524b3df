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
import { STRING, decimalText } from '../request-validation.js';
import type { RouteContext } from './context.js';

export const DEFAULT_PAGE = 1_000;
export const MAX_PAGE = 10_000;

/** The query of both reads, as the schemas below hand it over. */
interface PageQuery {
  from?: number;
  limit?: number;
  backwards?: 'true' | 'false' | '1' | '0' | '';
}

const LIMIT = decimalText({ minimum: 1, maximum: MAX_PAGE, emptyIsAbsent: true });

const STREAM_SCHEMA = {
  params: { type: 'object', properties: { aggregate: STRING, id: STRING } },
  querystring: {
    type: 'object',
    properties: {
      // From 0 backwards once passed here and was refused by the store, naming `options.from`.
      from: decimalText({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, emptyIsAbsent: true }),
      limit: LIMIT,
      backwards: { enum: ['true', 'false', '1', '0', ''], description: 'true or false' },
    },
  },
};

const LOG_SCHEMA = {
  querystring: {
    type: 'object',
    properties: { from: decimalText({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, emptyIsAbsent: true }), limit: LIMIT },
  },
};

export function registerReadRoutes(app: FastifyInstance, { engine }: RouteContext): void {
  app.get<{ Params: { aggregate: string; id: string }; Querystring: PageQuery }>(
    '/v1/aggregates/:aggregate/:id/events',
    { schema: STREAM_SCHEMA },
    async (request) => {
      const { aggregate, id } = request.params;
      const backwards = request.query.backwards === 'true' || request.query.backwards === '1';
      const limit = request.query.limit ?? DEFAULT_PAGE;
      const from = request.query.from;
      const events = await engine.readStream(aggregate, id, { from, limit, backwards, maxBytes: DEFAULT_READ_PAGE_BYTES });
      const last = events.at(-1);
      let next: number | null = null;
      if (last && backwards) {
        next = last.seq > 1 ? last.seq - 1 : null;
      } else if (last) {
        // A page may end before `limit` because it reached its byte bound: then the stream goes on.
        const more = events.length === limit || (await engine.readStream(aggregate, id, { from: last.seq + 1, limit: 1 })).length > 0;
        next = more ? last.seq + 1 : null;
      }
      return { aggregate, id, stream: streamName(aggregate, id), events, next } satisfies StreamPage;
    },
  );

  app.get<{ Querystring: PageQuery }>('/v1/events', { schema: LOG_SCHEMA }, async (request) => {
    const from = request.query.from ?? 1;
    const limit = request.query.limit ?? DEFAULT_PAGE;
    const events = await engine.readAll({ from, limit, maxBytes: DEFAULT_READ_PAGE_BYTES });
    const last = events.at(-1);
    return {
      events,
      next: last ? last.position + 1 : from,
      lastPosition: Math.max(await engine.lastPosition(), last?.position ?? 0),
    } satisfies LogPage;
  });
}
