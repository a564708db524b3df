/**
 * Every consumer of the log the runtime knows, and their resets:
 *
 *   GET  /v1/projections               {"projections": [{name, kind, status, position, lag, …}]}
 *   POST /v1/projections/:name/reset   body {"position": N} (optional, default 0)  →  the consumer's info
 *
 * Three kinds share one list: the in-process projections (`kind: "projection"`) and relays
 * (`"relay"`) of the runtime's `Consumers` and the remote subscribers (`"subscriber"`, see `subscriber-registry.ts`).
 * `position` is always the stored checkpoint (the last position processed, or acked) and `lag`
 * the events after it, so the three read alike whatever runs them.
 *
 * A reset moves the checkpoint to `position` (backwards too) and the consumer replays from the
 * position after it: a projection or a relay between two batches (a relay republishes, and its
 * consumers deduplicate by event id), a remote subscriber at once on its open streams.
 */
import type { FastifyInstance } from 'fastify';
import type { Consumer, ProjectionInfo } from '../../projections/index.js';
import type { RelayInfo } from '../../relays/index.js';
import { ApiError } from '../api-errors.js';
import { POSITION_BODY, acceptEmptyJson, checkNotPastHead } from '../position-body.js';
import type { PositionBody } from '../position-body.js';
import { STRING } from '../request-validation.js';
import type { SubscriberInfo } from '../subscriber-registry.js';
import type { RouteContext } from './context.js';

/** One consumer as `GET /v1/projections` shows it. */
export type ProjectionView = (ProjectionInfo & { kind: 'projection' }) | (RelayInfo & { kind: 'relay' }) | SubscriberInfo;

export function registerProjectionRoutes(app: FastifyInstance, { engine, consumers, subscribers }: RouteContext): void {
  // A relay's info is a RelayInfo (its target and state besides): `kind` says which it is.
  const view = (consumer: Consumer): ProjectionView => ({ ...consumer.info(), kind: consumer.kind }) as ProjectionView;

  app.get('/v1/projections', async () => {
    const projections: ProjectionView[] = [...consumers.list().map(view), ...(await subscribers.list())];
    return { projections };
  });

  void app.register(async (context) => {
    acceptEmptyJson(context);
    const schema = { params: { type: 'object', properties: { name: STRING } }, body: POSITION_BODY.optional };
    context.post<{ Params: { name: string }; Body: PositionBody }>(
      '/v1/projections/:name/reset',
      { schema },
      async (request): Promise<ProjectionView> => {
        const { name } = request.params;
        const position = request.body?.position ?? 0;
        checkNotPastHead(position, await engine.lastPosition());

        // A stopped projection stores the checkpoint itself, and replays from there when it is
        // started again.
        const consumer = consumers.get(name);
        if (consumer) {
          await consumer.reset(position);
          return view(consumer);
        }
        if (await subscribers.has(name)) return subscribers.reset(name, position);
        throw new ApiError('PROJECTION_NOT_FOUND', `no projection, relay or subscriber is named ${JSON.stringify(name)}`, { name });
      },
    );
  });
}
