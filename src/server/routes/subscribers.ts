/**
 * Remote subscribers' acks and deletion (see `subscriber-registry.ts`):
 *
 *   POST   /v1/subscribers/:name/ack   body {"position": N}   →  {"name", "position": <checkpoint now>}
 *   DELETE /v1/subscribers/:name                              →  {"name", "deleted": true}
 *
 * The checkpoint is stored durably before the answer, and never moves back: an ack below the
 * stored checkpoint answers the stored one. Reading goes through `GET /v1/subscribe?subscriber=`.
 * A delete ends the name's open streams and removes its checkpoint.
 */
import type { FastifyInstance } from 'fastify';
import type { AckResult, SubscriberDeleted } from '../../protocol/http.js';
import { ApiError } from '../api-errors.js';
import { POSITION_BODY, acceptEmptyJson, checkNotPastHead } from '../position-body.js';
import { STRING } from '../request-validation.js';
import type { RouteContext } from './context.js';

const NAME_PARAMS = { type: 'object', properties: { name: STRING } };

export function registerSubscriberRoutes(app: FastifyInstance, { engine, subscribers }: RouteContext): void {
  void app.register(async (context) => {
    acceptEmptyJson(context);
    context.post<{ Params: { name: string }; Body: { position: number } }>(
      '/v1/subscribers/:name/ack',
      { schema: { params: NAME_PARAMS, body: POSITION_BODY.required } },
      async (request) => {
        const { name } = request.params;
        subscribers.checkName(name, 'path parameter name');
        const { position } = request.body;
        checkNotPastHead(position, await engine.lastPosition());
        return { name, position: await subscribers.ack(name, position) } satisfies AckResult;
      },
    );
    context.delete<{ Params: { name: string } }>('/v1/subscribers/:name', { schema: { params: NAME_PARAMS } }, async (request) => {
      const { name } = request.params;
      // Refuses the name of a running projection or relay: their checkpoints are not the API's to drop.
      subscribers.checkName(name, 'path parameter name');
      if (!(await subscribers.delete(name))) {
        throw new ApiError(
          'SUBSCRIBER_NOT_FOUND',
          `no remote subscriber is named ${JSON.stringify(name)} (none connected, no checkpoint stored)`,
          { name },
        );
      }
      return { name, deleted: true } satisfies SubscriberDeleted;
    });
  });
}
