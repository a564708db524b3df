/**
 * Operations: liveness, readiness and Prometheus metrics.
 *
 *   GET /healthz   200 while the process serves HTTP at all (no token needed)
 *   GET /readyz    200 when it takes commands, 503 DRAINING once it shuts down, 503
 *                  STORE_UNAVAILABLE while its PostgreSQL cannot be reached, 503
 *                  NODE_NOT_IN_CLUSTER while a cluster node holds no current lease (no token needed;
 *                  the module count and the log's last position only with the token)
 *   GET /metrics   the Prometheus text format
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-errors.js';
import type { RouteContext } from './context.js';

export function registerHealthRoutes(app: FastifyInstance, { engine, metrics, draining, authorized, cluster }: RouteContext): void {
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  // Public, so that probes need no token; the log's head and the module count are for those who
  // hold it (or for every client, when the runtime has no token): they tell an outsider how
  // busy the runtime is and what it serves.
  app.get('/readyz', { config: { public: true } }, async (request) => {
    if (draining()) throw new ApiError('DRAINING', 'the runtime is shutting down');
    const health = engine.storeHealth();
    if (!health.available) {
      // The reason (a server's message) is for those who hold the token.
      const reason = authorized(request) ? `: ${health.error}` : '';
      throw new ApiError('STORE_UNAVAILABLE', `the event store cannot be reached; the runtime reconnects${reason}`);
    }
    // A node out of the cluster refuses commands: a load balancer should send them elsewhere.
    if (cluster && !cluster.membership.isLive()) {
      const why = cluster.membership.error();
      const reason = authorized(request) && why !== undefined ? `: ${why}` : '';
      throw new ApiError('NODE_NOT_IN_CLUSTER', `this node could not renew its cluster lease and takes no commands until it does${reason}`);
    }
    if (!authorized(request)) return { status: 'ready' };
    return { status: 'ready', modules: engine.modules().length, lastPosition: await engine.lastPosition() };
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}
