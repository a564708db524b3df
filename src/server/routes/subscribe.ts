/**
 * The live subscription: `GET /v1/subscribe?from=<position>`, answered with Server-Sent Events.
 * A `Last-Event-ID` header (sent by EventSource on reconnect) wins over `from`: the stream
 * resumes at the position after it.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-errors.js';
import { queryInteger } from '../command-input.js';
import { LogSubscription } from '../log-subscription.js';
import type { RouteContext } from './context.js';

export function registerSubscribeRoute(app: FastifyInstance, { engine, metrics, subscriptions }: RouteContext): void {
  app.get<{ Querystring: { from?: string } }>('/v1/subscribe', async (request, reply) => {
    let from = queryInteger(request.query.from, 'from', 1, 1);
    const lastEventId = request.headers['last-event-id'];
    if (lastEventId !== undefined) {
      if (typeof lastEventId !== 'string' || !/^[0-9]{1,16}$/.test(lastEventId)) {
        throw new ApiError('INVALID_ARGUMENT', `header last-event-id must be a global position (an integer), got ${JSON.stringify(lastEventId)}`);
      }
      from = Number(lastEventId) + 1;
    }
    // From here on the response is a raw stream that outlives this handler.
    reply.hijack();
    let untrack = (): void => undefined;
    const subscription = new LogSubscription(engine, reply.raw, from, (closed) => {
      subscriptions.delete(closed);
      untrack();
    });
    subscriptions.add(subscription);
    untrack = metrics.track(subscription);
    return reply;
  });
}
