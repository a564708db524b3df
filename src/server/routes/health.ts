/**
 * Operations: liveness, readiness and Prometheus metrics.
 *
 *   GET /healthz   200 while the process serves HTTP at all (no token needed)
 *   GET /readyz    200 when it takes commands, 503 DRAINING once it shuts down (no token needed)
 *   GET /metrics   the Prometheus text format
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-errors.js';
import type { RouteContext } from './context.js';

export function registerHealthRoutes(app: FastifyInstance, { engine, metrics, draining }: RouteContext): void {
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true } }, async () => {
    if (draining()) throw new ApiError('DRAINING', 'the runtime is shutting down');
    return { status: 'ready', modules: engine.modules().length, lastPosition: engine.lastPosition() };
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}
