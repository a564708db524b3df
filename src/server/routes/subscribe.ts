/**
 * The live subscription: `GET /v1/subscribe?from=<position>[&subscriber=<name>]`, answered with
 * Server-Sent Events.
 *
 * Where it starts, first match wins: a `Last-Event-ID` header (sent by EventSource on reconnect)
 * resumes at the position after it; with `subscriber`, the position after that subscriber's
 * stored checkpoint; then `from` (default 1). So a named subscriber that reconnects within one
 * life goes on right after the last event it received, and one that starts afresh (no header)
 * goes on right after the last event it acked: what it received but did not ack comes again.
 */
import type { FastifyInstance } from 'fastify';
import { LogSubscription } from '../log-subscription.js';
import { STRING, decimalText } from '../request-validation.js';
import type { RouteContext } from './context.js';

const SUBSCRIBE_SCHEMA = {
  querystring: {
    type: 'object',
    // The subscriber name's own rules (and the names of running projections) are the registry's.
    properties: { from: decimalText({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, emptyIsAbsent: true }), subscriber: STRING },
  },
  headers: {
    type: 'object',
    properties: {
      'last-event-id': {
        ...decimalText({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, 'a global position (an integer)'),
        title: 'Last-Event-ID',
      },
    },
  },
};

export function registerSubscribeRoute(app: FastifyInstance, { engine, metrics, subscriptions, subscribers }: RouteContext): void {
  app.get<{ Querystring: { from?: number; subscriber?: string }; Headers: { 'last-event-id'?: number } }>(
    '/v1/subscribe',
    { schema: SUBSCRIBE_SCHEMA },
    async (request, reply) => {
      let from = request.query.from ?? 1;
      const name =
        request.query.subscriber === undefined ? undefined : subscribers.checkName(request.query.subscriber, 'query parameter subscriber');
      if (name !== undefined) {
        const checkpoint = await subscribers.checkpoint(name);
        if (checkpoint !== undefined) from = checkpoint + 1;
      }
      const lastEventId = request.headers['last-event-id'];
      if (lastEventId !== undefined) from = lastEventId + 1;
      const open = (): void => {
        // From here on the response is a raw stream that outlives this handler.
        reply.hijack();
        let untrack = (): void => undefined;
        const subscription = new LogSubscription(engine.log, reply.raw, from, (closed) => {
          subscriptions.delete(closed);
          if (name !== undefined) subscribers.detach(name, closed);
          untrack();
        });
        // The subscription may have ended inside its constructor already (the store closed under
        // it); then it has called its onClose, and tracking it now would keep a dead stream listed.
        if (!subscription.isClosed) {
          subscriptions.add(subscription);
          if (name !== undefined) subscribers.attach(name, subscription);
          untrack = metrics.track(subscription);
        }
      };
      // A new name past the cap is refused here, before the stream opens; the stream is counted
      // (attached) inside its admission.
      if (name === undefined) open();
      else await subscribers.admit(name, open);
      return reply;
    },
  );
}
