/**
 * Prometheus metrics of a running runtime (prom-client), served at `GET /metrics`.
 *
 * Counters on the command path are bumped once per command, so they use pre-resolved label
 * children: prom-client hashes the label values on every `labels()` call, which shows at 60,000
 * commands/s. Gauges that describe the current state (queue depths, lag) are computed when
 * Prometheus scrapes, not kept up to date on every commit.
 *
 * Aggregate state cache hits and misses, and the store commits, come from the workers with each
 * batch's reply (a few counts per batch, not per command) and are read from the engine when
 * Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LeaseInfo } from '../cluster/lease-info.js';
import type { ClusterNode } from '../cluster/index.js';
import type { Engine } from '../engine/index.js';
import type { Consumers } from '../projections/index.js';
import type { Awaitable } from '../store/contract.js';

/** A live reader of the log (an SSE subscription) whose lag is reported. */
export interface LagSource {
  /** The last position delivered to the reader, 0 if none. */
  readonly delivered: number;
}

/**
 * A cluster node's leases of projections and relays (src/cluster/cluster-leases.ts): counted in
 * the metrics, and listed for the routes (`RouteContext.leases`).
 */
export interface LeaseStats {
  /** Every lease of a projection or relay in the store, of every node. */
  listLeases(): Promise<LeaseInfo[]>;
  /** Leases this node holds now. */
  leasesHeld(): number;
  /** Leases this node took over from a previous holder since it started. */
  handovers(): number;
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter<'outcome'>;
  private readonly outcomes = new Map<string, Counter.Internal>();
  private readonly latency: Histogram;
  private readonly appended: Counter<'aggregate'>;
  private readonly appendedBy = new Map<string, Counter.Internal>();
  private readonly subscriptions = new Set<LagSource>();

  /**
   * `consumers` are the in-process projections and relays; `subscribers` lists the remote ones,
   * each reported by name in `thalo_subscription_lag_events` next to the projections and relays.
   */
  constructor(
    engine: Engine,
    consumers: Consumers,
    subscribers: () => Awaitable<Iterable<{ name: string; lag: number }>> = () => [],
    cluster?: ClusterNode,
    leases?: LeaseStats,
  ) {
    // prom-client's names begin with their own group (`process_cpu_user_seconds_total`,
    // `nodejs_heap_size_used_bytes`), so the prefix is only ours: `thalo_process_` read
    // `thalo_process_process_cpu_…`.
    collectDefaultMetrics({ register: this.registry, prefix: 'thalo_' });
    // Three of prom-client's gauges end in `_total`, which Prometheus keeps for counters (a
    // `rate()` over them is meaningless); each is the sum of a gauge by type kept next to it
    // (`sum(thalo_nodejs_active_handles)`).
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
      this.registry.removeSingleMetric(`thalo_nodejs_${name}`);
    this.commands = new Counter({
      name: 'thalo_commands_total',
      help: 'Commands answered, by outcome: ok, duplicate (a retried command id), or the error code (COMMAND_REJECTED, WRONG_EXPECTED_VERSION, ...)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'thalo_command_duration_seconds',
      help: 'Time from a command reaching the engine to its answer (durable events or an error)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.appended = new Counter({
      name: 'thalo_events_appended_total',
      help: 'Events appended to the log by commands, by aggregate',
      labelNames: ['aggregate'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'thalo_shard_queue_depth',
      help: 'Commands waiting or running, per shard (worker)',
      labelNames: ['shard'],
      registers: [this.registry],
      collect() {
        engine.queueDepths().forEach((depth, shard) => this.set({ shard: String(shard) }, depth));
      },
    });
    for (const kind of ['hits', 'misses'] as const) {
      this.countedFrom(
        `thalo_cache_${kind}_total`,
        kind === 'hits'
          ? "Commands whose aggregate state was in its worker's cache"
          : 'Commands whose aggregate state its worker rebuilt from the store (snapshot and events) first',
        () => engine.cacheStats()[kind],
      );
    }
    if (leases !== undefined) {
      this.countedFrom(
        'thalo_lease_handovers_total',
        'Leases of projections and relays this node took over from a previous holder (a node that died, was cut off, or stopped)',
        () => leases.handovers(),
      );
      new Gauge({
        name: 'thalo_leases_held',
        help: 'Leases of projections and relays this node holds now (it runs those consumers; the other nodes stand by)',
        registers: [this.registry],
        collect() {
          this.set(leases.leasesHeld());
        },
      });
    }
    // The store's serial part: rate(seconds) / rate(commits) is a commit's time, rate(appends) /
    // rate(commits) its size, and rate(seconds) alone how busy one-at-a-time commits keep the store.
    this.countedFrom(
      'thalo_store_commits_total',
      'Store commits of commands: one per worker batch, and one more per round of commands run again in it',
      () => engine.commitStats().count,
    );
    this.countedFrom(
      'thalo_store_commit_appends_total',
      'Appends (commands with events) in the store commits of commands',
      () => engine.commitStats().appends,
    );
    this.countedFrom(
      'thalo_store_commit_seconds_total',
      "Time of the store commits of commands, from a worker handing one to the store until it was durable, the wait for the store's write lock included",
      () => engine.commitStats().seconds,
    );
    this.countedFrom(
      'thalo_stale_state_retries_total',
      'Commands run again on a state rebuilt from the store because the cached one was stale (another node wrote the stream)',
      () => engine.staleRetries(),
    );
    if (cluster) {
      new Counter({
        name: 'thalo_forwarded_commands_total',
        help: 'Commands owned by another node, by outcome: forwarded (the owner answered), ran_locally (the owner could not be asked, so this node ran it), outcome_unknown (the owner may have it; no command id to run it safely)',
        labelNames: ['outcome'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [outcome, count] of Object.entries(cluster.forwarder.outcomes())) this.inc({ outcome }, count);
        },
      });
      new Gauge({
        name: 'thalo_cluster_nodes',
        help: 'Live nodes of the cluster as this node saw them at its last lease renewal (0 while this node is out)',
        registers: [this.registry],
        collect() {
          this.set(cluster.membership.members().length);
        },
      });
    }
    new Gauge({
      name: 'thalo_log_position',
      help: 'The global position of the last committed event',
      registers: [this.registry],
      async collect() {
        this.set(await engine.lastPosition());
      },
    });
    const subscriptions = this.subscriptions;
    new Gauge({
      name: 'thalo_subscriptions',
      help: 'Open live subscriptions (Server-Sent Events)',
      registers: [this.registry],
      collect() {
        this.set(subscriptions.size);
      },
    });
    new Gauge({
      name: 'thalo_projection_failures',
      help: 'Consecutive failed attempts of the batch a projection or relay is on (0 while it succeeds); it retries with a growing backoff',
      labelNames: ['projection'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const consumer of consumers.list()) this.set({ projection: consumer.name }, consumer.info().failures);
      },
    });
    new Gauge({
      name: 'thalo_subscription_lag_events',
      help: 'Events committed but not yet delivered: the largest lag among the live subscriptions (subscription="sse"), and per projection, relay or remote subscriber (from its checkpoint)',
      labelNames: ['subscription'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const head = await engine.lastPosition();
        let worst = 0;
        for (const subscription of subscriptions) worst = Math.max(worst, head - subscription.delivered);
        this.set({ subscription: 'sse' }, worst);
        for (const consumer of consumers.list()) this.set({ subscription: consumer.name }, consumer.info().lag);
        // A subscriber's lag counts from its acked checkpoint, as a projection's does: what was
        // sent but not acked would be sent again after a crash, so it is not done yet.
        for (const info of await subscribers()) this.set({ subscription: info.name }, info.lag);
      },
    });
  }

  /** Count a command's answer. `seconds` is its latency; `aggregate` and `events` only for successes. */
  commandDone(outcome: string, seconds: number, aggregate?: string, events = 0): void {
    let counter = this.outcomes.get(outcome);
    if (!counter) this.outcomes.set(outcome, (counter = this.commands.labels(outcome)));
    counter.inc();
    this.latency.observe(seconds);
    if (events > 0 && aggregate !== undefined) {
      let appended = this.appendedBy.get(aggregate);
      if (!appended) this.appendedBy.set(aggregate, (appended = this.appended.labels(aggregate)));
      appended.inc(events);
    }
  }

  /** A counter that Prometheus reads from a running `total` kept elsewhere (the engine's, a lease keeper's). */
  private countedFrom(name: string, help: string, total: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(total());
      },
    });
  }

  /** Report `source`'s lag until the returned function is called. */
  track(source: LagSource): () => void {
    this.subscriptions.add(source);
    return () => this.subscriptions.delete(source);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
