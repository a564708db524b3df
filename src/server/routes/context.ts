/** What every route of the API is given by `ApiServer`. */
import type { FastifyRequest } from 'fastify';
import type { ClusterNode } from '../../cluster/index.js';
import type { Engine } from '../../engine/index.js';
import type { Consumers } from '../../projections/index.js';
import type { LeaseStats, RuntimeMetrics } from '../metrics.js';
import type { ModuleDirectory } from '../module-directory.js';
import type { LogSubscription } from '../log-subscription.js';
import type { SubscriberRegistry } from '../subscriber-registry.js';

export interface RouteContext {
  engine: Engine;
  /** The in-process projections and relays of the log, by name. */
  consumers: Consumers;
  metrics: RuntimeMetrics;
  /** The engine's payload limit, in bytes; request bodies are limited accordingly. */
  maxPayloadBytes: number;
  /** The watched modules directory, through which uploads go. */
  modules: ModuleDirectory;
  /** Open live subscriptions, ended when the server closes. */
  subscriptions: Set<LogSubscription>;
  /** The remote subscribers: their open streams and their checkpoints. */
  subscribers: SubscriberRegistry;
  /** A cluster node's leases of projections and relays (`listLeases()` for `GET /v1/cluster`); absent on a single node. */
  leases?: LeaseStats;
  /** This node's membership and forwarding, when it runs in a cluster (`--advertise`). */
  cluster?: ClusterNode;
  /** True once the runtime is shutting down. */
  draining(): boolean;
  /** True when `request` carries the runtime's token, or the runtime has none (for public routes that show more to a client with it). */
  authorized(request: FastifyRequest): boolean;
}
