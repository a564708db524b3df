/**
 * Every consumer of the log the runtime knows, and their resets:
 *
 *   GET  /v1/projections               {"projections": [{name, kind, status, position, lag, …}]}
 *   POST /v1/projections/:name/reset   body {"position": N} (optional, default 0)  →  the consumer's info
 *
 * Three kinds share one list: the engine's in-process projections (`kind: "projection"`), its
 * relays (`"relay"`) and the remote subscribers (`"subscriber"`, see `subscriber-registry.ts`).
 * `position` is always the stored checkpoint (the last position processed, or acked) and `lag`
 * the events after it, so the three read alike whatever runs them.
 *
 * A reset moves the checkpoint to `position` (backwards too) and the consumer replays from the
 * position after it: a projection or a relay between two batches (a relay republishes, and its
 * consumers deduplicate by event id), a remote subscriber at once on its open streams.
 */
import type { FastifyInstance } from 'fastify';
import type { ProjectionInfo } from '../../projections/index.js';
import type { RelayInfo } from '../../relays/index.js';
import { ApiError } from '../api-errors.js';
import { acceptEmptyJson, checkNotPastHead, positionOf } from '../position-body.js';
import type { SubscriberInfo } from '../subscriber-registry.js';
import type { RouteContext } from './context.js';

/** One consumer as `GET /v1/projections` shows it. */
export type ProjectionView = (ProjectionInfo & { kind: 'projection' }) | (RelayInfo & { kind: 'relay' }) | SubscriberInfo;

export function registerProjectionRoutes(app: FastifyInstance, { engine, subscribers }: RouteContext): void {
  const projectionView = (info: ProjectionInfo): ProjectionView => ({ ...info, kind: 'projection' });
  const relayView = (info: RelayInfo): ProjectionView => ({ ...info, kind: 'relay' });

  app.get('/v1/projections', async () => {
    const projections: ProjectionView[] = [...engine.projections().map(projectionView), ...engine.relays().map(relayView), ...subscribers.list()];
    return { projections };
  });

  void app.register(async (context) => {
    acceptEmptyJson(context);
    context.post<{ Params: { name: string } }>('/v1/projections/:name/reset', async (request): Promise<ProjectionView> => {
      const { name } = request.params;
      const position = positionOf(request.body, { required: false, fallback: 0 });
      checkNotPastHead(position, engine.lastPosition());

      const projection = engine.projection(name);
      if (projection) {
        if (projection.info().status === 'stopped') {
          // A stopped projection's loop no longer runs to apply a reset: store the checkpoint
          // itself, so that the projection replays from there when it is started again.
          await engine.setCheckpoint(name, position);
          const info = projection.info();
          return projectionView({ ...info, position, lag: Math.max(0, engine.lastPosition() - position) });
        }
        await projection.reset(position);
        return projectionView(projection.info());
      }
      const relay = engine.relayNamed(name);
      if (relay) {
        await relay.projection.reset(position);
        return relayView(relay.info());
      }
      if (subscribers.has(name)) return subscribers.reset(name, position);
      throw new ApiError('PROJECTION_NOT_FOUND', `no projection, relay or subscriber is named ${JSON.stringify(name)}`, { name });
    });
  });
}
