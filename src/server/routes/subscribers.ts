/**
 * Remote subscribers' acks (see `subscriber-registry.ts`):
 *
 *   POST /v1/subscribers/:name/ack   body {"position": N}   →  {"name", "position": <checkpoint now>}
 *
 * The checkpoint is stored durably before the answer, and never moves back: an ack below the
 * stored checkpoint answers the stored one. Reading goes through `GET /v1/subscribe?subscriber=`.
 */
import type { FastifyInstance } from 'fastify';
import { acceptEmptyJson, checkNotPastHead, positionOf } from '../position-body.js';
import type { RouteContext } from './context.js';

export function registerSubscriberRoutes(app: FastifyInstance, { engine, subscribers }: RouteContext): void {
  void app.register(async (context) => {
    acceptEmptyJson(context);
    context.post<{ Params: { name: string } }>('/v1/subscribers/:name/ack', async (request) => {
      const { name } = request.params;
      subscribers.checkName(name, 'path parameter name');
      const position = positionOf(request.body, { required: true });
      checkNotPastHead(position, engine.lastPosition());
      return { name, position: await subscribers.ack(name, position) };
    });
  });
}
