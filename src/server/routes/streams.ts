/**
 * Browsing: the streams there are, and an aggregate's state at a seq (the console's pages).
 *
 *   GET /v1/streams?aggregate=&prefix=&after=&limit=   streams by name, a page at a time
 *   GET /v1/aggregates/:aggregate/:id/state?at=        the state after the events up to seq `at`
 *
 * A stream page lists names in the store's order (UTF-8 bytes) with each stream's version; its
 * `next` is the `after` of the following page, or null when there is none. With `aggregate`, the
 * prefix is one of ids (`?aggregate=counter&prefix=ab` lists `counter-ab…`); without it, one of
 * stream names. An aggregate whose module is gone still has its streams listed.
 */
import type { FastifyInstance } from 'fastify';
import { aggregateNameProblem, aggregateOf, streamName } from '../../aggregate-name.js';
import type { AggregateStateAt, StreamList } from '../../protocol/http.js';
import { ApiError } from '../api-errors.js';
import { STRING, decimalText } from '../request-validation.js';
import type { RouteContext } from './context.js';

export const DEFAULT_STREAM_PAGE = 100;
export const MAX_STREAM_PAGE = 1_000;

const LIST_SCHEMA = {
  querystring: {
    type: 'object',
    properties: {
      aggregate: STRING,
      prefix: STRING,
      after: STRING,
      limit: decimalText({ minimum: 1, maximum: MAX_STREAM_PAGE, emptyIsAbsent: true }),
    },
  },
};

const STATE_SCHEMA = {
  params: { type: 'object', properties: { aggregate: STRING, id: STRING } },
  querystring: {
    type: 'object',
    properties: { at: decimalText({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, emptyIsAbsent: true }) },
  },
};

interface ListQuery {
  aggregate?: string;
  prefix?: string;
  after?: string;
  limit?: number;
}

export function registerStreamRoutes(app: FastifyInstance, { engine }: RouteContext): void {
  app.get<{ Querystring: ListQuery }>('/v1/streams', { schema: LIST_SCHEMA }, async (request): Promise<StreamList> => {
    const { aggregate, prefix = '', after } = request.query;
    const limit = request.query.limit ?? DEFAULT_STREAM_PAGE;
    if (aggregate !== undefined && aggregate !== '') {
      const problem = aggregateNameProblem(aggregate);
      if (problem !== undefined) throw new ApiError('INVALID_ARGUMENT', `query parameter aggregate: ${problem}`);
    }
    const namePrefix = aggregate ? streamName(aggregate, prefix) : prefix;
    // One more than the page, to know whether another follows.
    const found = await engine.listStreams({ prefix: namePrefix, after: after === '' ? undefined : after, limit: limit + 1 });
    const page = found.slice(0, limit);
    return {
      streams: page.map(({ stream, version }) => {
        const of = aggregateOf(stream);
        return { stream, aggregate: of, id: stream.slice(of.length + 1), version };
      }),
      next: found.length > limit ? page.at(-1)!.stream : null,
    };
  });

  app.get<{ Params: { aggregate: string; id: string }; Querystring: { at?: number } }>(
    '/v1/aggregates/:aggregate/:id/state',
    { schema: STATE_SCHEMA },
    async (request): Promise<AggregateStateAt> => engine.stateAt(request.params.aggregate, request.params.id, request.query.at),
  );
}
