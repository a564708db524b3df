#!/usr/bin/env node
/**
 * `thalo-runtime`: the engine as a service. This file wires the pieces: options (each also from
 * a THALO_* environment variable), the pino logger, the engine, the watched modules directory,
 * the HTTP API, and the graceful shutdown on SIGINT/SIGTERM.
 *
 * Exit codes: 0 after a clean shutdown, 1 when it cannot start (the data directory is locked by
 * another runtime, the store is damaged, the port is taken, ...), 2 for usage errors. With
 * `--verify` it checks the store instead (verify-store.ts): 0 when sound, 1 when damaged.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { DEFAULT_MAX_GUEST_MEMORY_BYTES, DEFAULT_VALIDATION_TIMEOUT_MS, Engine } from '../engine/index.js';
import { isThaloError, serializeError } from '../errors.js';
import { DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENTS_PER_COMMAND, DEFAULT_MAX_METADATA_BYTES } from '../limits.js';
import { Forwarder, Membership, clusterOptions } from '../cluster/index.js';
import type { ClusterNode, ClusterOptions, MembershipStore } from '../cluster/index.js';
import { ClusterLeases } from '../cluster/cluster-leases.js';
import { ModuleSync } from '../cluster/module-sync.js';
import { ModuleTable } from '../cluster/module-table.js';
import type { LeaseEvents } from '../cluster/leased-consumer.js';
import { Consumers } from '../projections/index.js';
import { startRelay } from '../relays/index.js';
import type { RelayFormat, RelayOptions } from '../relays/index.js';
import { ApiServer, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_REQUEST_TIMEOUT_MS, ModuleDirectory } from '../server/index.js';
import { describeLocation } from '../store/index.js';
import { redactUrl } from '../store/redact-url.js';
import { LOG_FORMATS, createLogger } from './log-format.js';
import type { LogFormat } from './log-format.js';
import { ProjectionFileError, loadProjectionFile } from './projection-files.js';
import { RelaySpecError, parseRelaySpec } from './relay-spec.js';
import { verifyCommand } from './verify-store.js';

interface RuntimeOptions {
  host: string;
  port: number;
  modules: string;
  data: string;
  store?: string;
  schema?: string;
  workers: number;
  cacheSize: number;
  snapshotEvery: number;
  commandTimeout: number;
  maxPayload: number;
  maxEventsPerCommand: number;
  maxEventBytes: number;
  maxMetadataBytes: number;
  moduleValidationTimeout: number;
  maxGuestMemory: number;
  durability: 'durable' | 'relaxed';
  token?: string;
  requestTimeout: number;
  maxConnections?: number;
  maxSubscribers: number;
  relay: string[];
  projection: string[];
  relayTemplate?: string;
  relayFormat?: RelayFormat;
  relayStream?: string;
  relayMaxLen?: number;
  logLevel: string;
  logFormat: LogFormat;
  verify?: boolean;
  json?: boolean;
  advertise?: string;
  clusterToken?: string;
  leaseMs?: number;
}

function integer(min: number): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value.trim()) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`expected an integer of at least ${min}`);
    }
    return Number(value);
  };
}

/** A repeatable option: each use adds to the list, and a comma-separated value (the variable's form) adds each item. */
function appendList(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const GUEST_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const program = new Command('thalo-runtime')
  .description('Run Thalo: serve the aggregate modules of a directory over HTTP, with an embedded event store')
  .addOption(new Option('--host <host>', 'interface to listen on').env('THALO_HOST').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port to listen on (0 picks a free one)').env('THALO_PORT').default(4433).argParser(integer(0)))
  .addOption(
    new Option('--modules <dir>', 'directory of aggregate modules (<aggregate>.wasm), watched for changes')
      .env('THALO_MODULES')
      .default('./modules'),
  )
  .addOption(new Option('--data <dir>', 'data directory of the embedded LMDB event store').env('THALO_DATA').default('./data'))
  .addOption(
    new Option('--store <url>', 'keep the events in PostgreSQL at this postgres:// URL instead of the LMDB data directory').env(
      'THALO_STORE',
    ),
  )
  .addOption(
    new Option('--schema <name>', 'with --store, the PostgreSQL schema of the tables (one per deployment sharing a database)')
      .env('THALO_SCHEMA')
      .default('thalo'),
  )
  .addOption(
    new Option('--workers <n>', 'worker threads (shards)')
      .env('THALO_WORKERS')
      .default(availableParallelism(), 'the number of cores')
      .argParser(integer(1)),
  )
  .addOption(
    new Option('--cache-size <n>', 'aggregate states cached per worker').env('THALO_CACHE_SIZE').default(10_000).argParser(integer(1)),
  )
  .addOption(
    new Option('--snapshot-every <n>', 'snapshot a stream every n events (0: never)')
      .env('THALO_SNAPSHOT_EVERY')
      .default(1_000)
      .argParser(integer(0)),
  )
  .addOption(
    new Option('--command-timeout <ms>', "deadline for a command's guest code, in ms")
      .env('THALO_COMMAND_TIMEOUT')
      .default(5_000)
      .argParser(integer(1)),
  )
  .addOption(
    new Option('--max-payload <bytes>', 'largest command payload (msgpack bytes); request bodies are limited to match')
      .env('THALO_MAX_PAYLOAD')
      .default(1024 * 1024)
      .argParser(integer(1)),
  )
  .addOption(
    new Option('--max-events-per-command <n>', 'events one command may append (more: 422 TOO_MANY_EVENTS)')
      .env('THALO_MAX_EVENTS_PER_COMMAND')
      .default(DEFAULT_MAX_EVENTS_PER_COMMAND)
      .argParser(integer(1)),
  )
  .addOption(
    new Option('--max-event-bytes <bytes>', "bytes of one event's data (more: 422 EVENT_TOO_LARGE)")
      .env('THALO_MAX_EVENT_BYTES')
      .default(DEFAULT_MAX_EVENT_BYTES)
      .argParser(integer(1)),
  )
  .addOption(
    new Option(
      '--max-metadata-bytes <bytes>',
      "bytes of a command's ids and headers, copied into each of its events (more: 413 METADATA_TOO_LARGE)",
    )
      .env('THALO_MAX_METADATA_BYTES')
      .default(DEFAULT_MAX_METADATA_BYTES)
      .argParser(integer(1)),
  )
  .addOption(
    new Option(
      '--module-validation-timeout <ms>',
      "how long a module's start function, thalo_abi_version and thalo_describe may run at load (past it: refused, MODULE_INVALID)",
    )
      .env('THALO_MODULE_VALIDATION_TIMEOUT')
      .default(DEFAULT_VALIDATION_TIMEOUT_MS)
      .argParser(integer(1)),
  )
  .addOption(
    new Option(
      '--max-guest-memory <bytes>',
      'the most memory one module instance may use (64 KiB pages; past it the command fails with GUEST_MEMORY_EXCEEDED)',
    )
      .env('THALO_MAX_GUEST_MEMORY')
      .default(DEFAULT_MAX_GUEST_MEMORY_BYTES)
      .argParser(integer(65_536)),
  )
  .addOption(
    new Option('--durability <mode>', 'store durability').env('THALO_DURABILITY').default('durable').choices(['durable', 'relaxed']),
  )
  .addOption(
    new Option('--token <token>', 'require "Authorization: Bearer <token>" on every request but /healthz and /readyz').env('THALO_TOKEN'),
  )
  .addOption(
    new Option(
      '--request-timeout <ms>',
      "a request's headers and body must arrive within this, or it gets 408 (live subscriptions are not cut)",
    )
      .env('THALO_REQUEST_TIMEOUT')
      .default(DEFAULT_REQUEST_TIMEOUT_MS)
      .argParser(integer(1)),
  )
  .addOption(
    new Option(
      '--max-connections <n>',
      'connections held at once; more are closed at once and logged (default: the open-file limit less 64 and 8 per worker, at least half of it; 4096 where the limit cannot be read)',
    )
      .env('THALO_MAX_CONNECTIONS')
      .argParser(integer(1)),
  )
  .addOption(
    new Option('--max-subscribers <n>', 'remote subscriber names known at once; a new one past it is refused (409 TOO_MANY_SUBSCRIBERS)')
      .env('THALO_MAX_SUBSCRIBERS')
      .default(DEFAULT_MAX_SUBSCRIBERS)
      .argParser(integer(1)),
  )
  .addOption(
    new Option('--relay <url...>', 'forward every event to redis://… or nats://… (repeatable; the variable takes a comma-separated list)')
      .env('THALO_RELAY')
      .default([])
      .argParser(appendList),
  )
  .addOption(
    new Option(
      '--relay-template <template>',
      "every relay's Redis key or NATS subject, with {category}, {event} and {stream} (a relay URL's ?template= wins)",
    ).env('THALO_RELAY_TEMPLATE'),
  )
  .addOption(
    new Option('--relay-format <format>', "every relay's message format (a relay URL's ?format= wins)")
      .env('THALO_RELAY_FORMAT')
      .choices(['native', 'cloudevents']),
  )
  .addOption(
    new Option('--relay-stream <name>', "the JetStream stream of every NATS relay (default THALO_EVENTS; a relay URL's ?stream= wins)").env(
      'THALO_RELAY_STREAM',
    ),
  )
  .addOption(
    new Option('--relay-max-len <n>', "trim every Redis relay's streams to about n entries (default 1,000,000; ?maxLen= wins)")
      .env('THALO_RELAY_MAX_LEN')
      .argParser(integer(1)),
  )
  .addOption(
    new Option(
      '--projection <file...>',
      'run the projection a JS module exports by default, { name, handle, options } (repeatable; the variable takes a comma-separated list)',
    )
      .env('THALO_PROJECTION')
      .default([])
      .argParser(appendList),
  )
  .addOption(
    new Option('--advertise <url>', 'join a cluster (with --store): the http:// URL the other nodes reach this one at').env(
      'THALO_ADVERTISE',
    ),
  )
  .addOption(
    new Option('--cluster-token <secret>', 'with --advertise, the secret every node of the cluster shares to forward commands').env(
      'THALO_CLUSTER_TOKEN',
    ),
  )
  .addOption(
    new Option('--lease-ms <ms>', 'with --advertise, how long a node, projection or relay lease lasts after its last renewal')
      .env('THALO_LEASE_MS')
      .argParser(integer(300)),
  )
  .addOption(new Option('--log-level <level>', 'log level').env('THALO_LOG_LEVEL').default('info').choices(LOG_LEVELS))
  .addOption(
    new Option('--log-format <format>', 'json lines, or one readable line per entry')
      .env('THALO_LOG_FORMAT')
      .default(process.stdout.isTTY ? 'pretty' : 'json', 'pretty on a terminal, json otherwise')
      .choices(LOG_FORMATS),
  )
  .addOption(
    new Option(
      '--verify',
      'check the event store in --data for damage instead of serving: list every damaged position, exit 0 if none, 1 if any',
    ),
  )
  .addOption(new Option('--json', 'with --verify, print the report as one JSON object'))
  .exitOverride()
  .showHelpAfterError();

/** Start everything; resolves once the runtime listens. */
async function run(options: RuntimeOptions, relays: RelayOptions[], cluster: ClusterOptions | undefined, logger: Logger): Promise<void> {
  const projections = await Promise.all(options.projection.map(loadProjectionFile));
  const engine = await Engine.start({
    modules: options.modules,
    data: options.data,
    ...(options.store === undefined ? {} : { store: options.store, schema: options.schema }),
    workers: options.workers,
    cacheSize: options.cacheSize,
    snapshotEvery: options.snapshotEvery,
    commandTimeoutMs: options.commandTimeout,
    maxPayloadBytes: options.maxPayload,
    maxEventsPerCommand: options.maxEventsPerCommand,
    maxEventBytes: options.maxEventBytes,
    maxMetadataBytes: options.maxMetadataBytes,
    moduleValidationTimeoutMs: options.moduleValidationTimeout,
    maxGuestMemoryBytes: options.maxGuestMemory,
    durability: options.durability,
    onGuestLog: (level, message, module) => logger[GUEST_LEVELS[level] ?? 'info']({ module }, `guest: ${message}`),
  });
  engine.onWorkerError((error) => logger.error({ err: error }, 'a worker thread failed outside a command and was replaced'));
  const location = engine.options.location;
  let node: ClusterNode | undefined;
  if (cluster && location.kind === 'postgres') {
    try {
      node = await joinCluster(cluster, location, logger);
    } catch (error) {
      await engine.stop();
      throw error;
    }
  }
  const clusterStore = cluster !== undefined && location.kind === 'postgres' ? { ...location, node: cluster.nodeId } : undefined;
  // In a cluster the modules are kept in the store and every node serves its newest revisions
  // (src/cluster/module-sync.ts says the rule); on a single node the directory alone, as always.
  const moduleTable = clusterStore === undefined ? undefined : ModuleTable.open(clusterStore.url, clusterStore.schema);
  const modules = new ModuleDirectory({
    engine,
    directory: options.modules,
    logger,
    ...(moduleTable === undefined || clusterStore === undefined
      ? {}
      : { shared: { publish: (name, bytes, sha256) => moduleTable.publish(name, bytes, sha256, clusterStore.node) } }),
  });
  const moduleSync =
    moduleTable === undefined
      ? undefined
      : new ModuleSync({
          table: moduleTable,
          directory: modules,
          onError: (error) =>
            logger.warn(
              { error: serializeError(error).message },
              'reading the modules kept in the store failed: trying again every second',
            ),
          onRecovered: () => logger.info('reading the modules kept in the store again'),
        });
  // The engine runs no consumer: the projections and relays are started here, over its log, and
  // stop by themselves when the engine closes the log.
  const consumers = new Consumers(engine.log);
  // In a cluster, each projection and relay runs on the one node holding its lease (the others
  // stand by); on a single node they run here, with no lease.
  const leases =
    cluster === undefined || location.kind !== 'postgres'
      ? undefined
      : ClusterLeases.open({
          url: location.url,
          schema: location.schema,
          nodeId: cluster.nodeId,
          leaseMs: cluster.leaseMs,
          events: leaseLog(logger),
        });
  // GET /v1/cluster lists which node holds each projection and relay.
  if (node !== undefined && leases !== undefined) node.leases = () => leases.listLeases();
  const api = new ApiServer({
    engine,
    consumers,
    modules,
    logger,
    maxPayloadBytes: options.maxPayload,
    token: options.token,
    requestTimeoutMs: options.requestTimeout,
    maxConnections: options.maxConnections,
    maxSubscribers: options.maxSubscribers,
    ...(leases === undefined ? {} : { leases }),
    ...(node === undefined ? {} : { cluster: node }),
  });
  let url: string;
  try {
    await modules.start();
    await moduleSync?.start();
    for (const relayOptions of relays) {
      if (leases !== undefined) {
        const name = relayOptions.name ?? `relay:${relayOptions.url}`;
        leases.relay(
          consumers,
          { ...relayOptions, name, onStateChange: relayStateLog(logger, name, relayOptions.url) },
          redactUrl(relayOptions.url),
        );
        logger.info({ relay: name, target: redactUrl(relayOptions.url) }, 'relay set up: it runs on the node holding its lease');
        continue;
      }
      // A broker that is down does not stop the start: the relay retries with a capped backoff
      // and says once when it fails and once when it delivers again.
      const relay = await startRelay(consumers, {
        ...relayOptions,
        onStateChange: (state, error) => {
          const info = relay.info();
          if (state === 'failing') {
            const { code, message } = serializeError(error);
            logger.warn(
              { relay: info.name, target: info.target, code, error: message },
              'relay cannot deliver: retrying, commands are still accepted',
            );
          } else logger.info({ relay: info.name, target: info.target }, 'relay delivering');
        },
      });
      await relay.projection.ready();
      logger.info({ relay: relay.name, target: relay.info().target, position: relay.info().position }, 'relay started');
    }
    for (const { name, handle, options: projectionOptions } of projections) {
      const settings = {
        ...projectionOptions,
        onError: (error: unknown, failures: number) => {
          logger.warn(
            { projection: name, failures, error: serializeError(error).message },
            'projection failed: the batch is retried after a backoff',
          );
          projectionOptions?.onError?.(error, failures);
        },
      };
      if (leases !== undefined) {
        leases.project(consumers, name, handle, settings);
        logger.info({ projection: name }, 'projection set up: it runs on the node holding its lease');
        continue;
      }
      const projection = consumers.project(name, handle, settings);
      await projection.ready();
      logger.info({ projection: name, position: projection.info().position }, 'projection started');
    }
    url = await api.listen(options.host, options.port);
  } catch (error) {
    await moduleSync?.stop();
    await node?.membership.leave();
    await node?.forwarder.close();
    await modules.stop();
    await engine.stop();
    await leases?.stop();
    await moduleTable?.close();
    throw error;
  }
  logger.info(
    {
      url,
      ...(options.store === undefined ? { data: resolve(options.data) } : { store: describeLocation(engine.options.location) }),
      modules: modules.displayPath(modules.directory),
      workers: options.workers,
      ...(cluster === undefined ? {} : { node: cluster.nodeId, advertise: cluster.url }),
      token: options.token !== undefined,
      maxConnections: api.app.server.maxConnections,
    },
    `listening on ${url}`,
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'draining: finishing the commands in flight, refusing new requests with 503');
    // Order matters: refuse new work first, let the engine answer everything it accepted (its
    // events are durable by then), and only then close the server, so every accepted request
    // gets its answer before its connection closes.
    api.startDraining();
    // Leave the cluster at once: the others re-hash this node's aggregates at their next renewal
    // instead of after its lease expires, and forward nothing more here meanwhile (503 DRAINING
    // makes them run it themselves).
    await node?.membership.leave();
    await moduleSync?.stop();
    await modules.stop();
    // The engine's close stops each leased consumer (its last checkpoint stored under its fence)
    // and gives its lease up, so another node takes over at once rather than after the expiry.
    await engine.stop();
    await leases?.stop();
    await moduleTable?.close();
    await api.close();
    await node?.forwarder.close();
    logger.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      shutdown(signal).catch((error) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
}

/** Log each lease taken and lost, with its fence; a failing statement at most once per lease every 30 s. */
function leaseLog(logger: Logger): LeaseEvents {
  const lastError = new Map<string, number>();
  return {
    acquired: (lease, fence) => {
      lastError.delete(lease);
      logger.info({ lease, fence }, `lease acquired: ${lease} runs on this node`);
    },
    lost: (lease, fence, reason) => {
      const said = {
        released: 'released on stop',
        taken: 'another node holds it',
        expired: 'not renewed in time (the database is slow or unreachable): stopped before it could expire',
        fenced: 'a checkpoint write found another fence',
        failed: 'it could not start here (the error is logged): the lease is given back',
      }[reason];
      logger[reason === 'released' ? 'info' : 'warn']({ lease, fence, reason }, `lease lost: ${lease} stopped on this node, ${said}`);
    },
    error: (lease, error) => {
      const now = Date.now();
      if (now - (lastError.get(lease) ?? 0) < 30_000) return;
      lastError.set(lease, now);
      const { code, message } = serializeError(error);
      logger.warn({ lease, code, error: message }, 'lease statement failed: trying again');
    },
  };
}

/** A relay's state changes, logged once each (not once per try). */
function relayStateLog(logger: Logger, relay: string, url: string): (state: 'connected' | 'failing', error?: unknown) => void {
  return (state, error) => {
    if (state === 'failing') {
      const { code, message } = serializeError(error);
      logger.warn({ relay, target: redactUrl(url), code, error: message }, 'relay cannot deliver: retrying, commands are still accepted');
    } else logger.info({ relay, target: redactUrl(url) }, 'relay delivering');
  };
}

/** Registers this node in the store's membership, logs its comings and goings, and makes its forwarder. */
async function joinCluster(cluster: ClusterOptions, store: MembershipStore, logger: Logger): Promise<ClusterNode> {
  const membership = await Membership.join(cluster, store);
  let wasLive = true;
  membership.onChange((view) => {
    if (view.live && !wasLive) logger.info({ node: cluster.nodeId, nodes: view.members.length }, 'back in the cluster: serving commands');
    else if (!view.live && wasLive)
      logger.warn(
        { node: cluster.nodeId, error: membership.error() },
        'out of the cluster: the lease could not be renewed in time; refusing commands (503 NODE_NOT_IN_CLUSTER) until it is',
      );
    else logger.info({ node: cluster.nodeId, nodes: view.members.map((member) => member.id) }, 'cluster members changed');
    wasLive = view.live;
  });
  logger.info({ node: cluster.nodeId, nodes: membership.members().map((member) => member.id) }, 'joined the cluster');
  return { options: cluster, membership, forwarder: new Forwarder(cluster, membership) };
}

let options: RuntimeOptions;
let relays: RelayOptions[];
let cluster: ClusterOptions | undefined;
try {
  program.parse();
  options = program.opts<RuntimeOptions>();
  // An empty THALO_TOKEN means no token, not the empty token.
  if (options.token === '') delete options.token;
  const defaults = {
    template: options.relayTemplate,
    format: options.relayFormat,
    streamName: options.relayStream,
    maxLen: options.relayMaxLen,
  };
  relays = options.relay.map((spec) => parseRelaySpec(spec, defaults));
  cluster = clusterOptions(options);
} catch (error) {
  // Commander has printed its own usage errors (and the help, which exits 0).
  if (error instanceof RelaySpecError || isThaloError(error, 'INVALID_ARGUMENT')) process.stderr.write(`error: ${error.message}\n`);
  process.exit(error instanceof CommanderError && error.exitCode === 0 ? 0 : 2);
}

if (options.verify && options.store !== undefined) {
  process.stderr.write(
    'error: --verify checks an LMDB data directory (--data); PostgreSQL checks its own pages (data_checksums, amcheck)\n',
  );
  process.exit(2);
}
if (options.verify) process.exit(verifyCommand(resolve(options.data), options.json === true));

const logger = createLogger(options.logLevel, options.logFormat);
try {
  await run(options, relays, cluster, logger);
} catch (error) {
  if (error instanceof ProjectionFileError) {
    logger.fatal(`cannot start: ${error.message}`);
  } else if (isThaloError(error, 'STORE_UNAVAILABLE') || isThaloError(error, 'STORE_SCHEMA_UNSUPPORTED')) {
    // The message names the URL with its password hidden; the cause (the client's error) is left out.
    logger.fatal({ code: error.code, data: error.data }, `cannot start: ${error.message}`);
  } else if (isThaloError(error, 'STORE_LOCKED')) {
    logger.fatal({ code: error.code, data: resolve(options.data) }, `cannot start: ${error.message}`);
  } else if (isThaloError(error, 'STORE_CORRUPTED')) {
    // Refuse to serve a damaged store, and say how to see all of the damage.
    const data = resolve(options.data);
    logger.fatal(
      { code: error.code, data, detail: error.data },
      `cannot start: ${error.message}; run thalo-runtime --verify --data ${data} to list the damage`,
    );
  } else {
    logger.fatal({ ...serializeError(error), err: error }, 'cannot start');
  }
  process.exit(1);
}
