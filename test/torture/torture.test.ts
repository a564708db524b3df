/**
 * The end-to-end torture test: `thalo-runtime` as a process, with the example modules, the runaway
 * fixture, a remote projection (a checkpointed subscriber kept by this test) and relays to Redis
 * Streams and NATS JetStream, driven over HTTP by concurrent clients while it is SIGKILLed at
 * random moments and restarted on the same data directory. Malformed requests, broken module
 * uploads and a module that loops forever are thrown in along the way. At the end, each promise
 * the runtime makes is checked on its own, as a user would see it (docs/http-api.md).
 *
 * Modes:
 *   npx vitest run test/torture                         CI: 8 SIGKILLs, under a minute
 *   THALO_TORTURE_LONG=1 npx vitest run test/torture    30 SIGKILLs, more clients and accounts, a few minutes
 *   THALO_TORTURE_SEED=<n>                              replay the clients' choices of a run
 *   THALO_TORTURE_VERBOSE=1                             progress lines on stderr
 * It needs the build (`npx tsc -p tsconfig.json`: it runs dist/), and Redis and NATS on their
 * default ports unless THALO_SKIP_REDIS=1 / THALO_SKIP_NATS=1 (then that relay is left out).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '../fixtures/build-fixtures.js';
import { request, tempRoot } from '../server/runtime-process.js';
import { NATS, REDIS, requireService, skipped } from '../services.js';
import { BAD_INPUTS, sendBadInputs } from './bad-inputs.js';
import type { BadInputResult } from './bad-inputs.js';
import { BalanceSubscriber } from './balance-subscriber.js';
import { BankClient, seededRandom } from './bank-client.js';
import { deleteRelayed, jetStreamEventIds, redisCaughtUp, relayArgs, relayNames } from './brokers.js';
import { CommandLedger } from './command-ledger.js';
import {
  commandProblems,
  globalGaps,
  negativeBalances,
  rebuildBalances,
  retriedProblems,
  streamGaps,
  surpriseHistories,
} from './log-checks.js';
import type { LoggedEvent } from './log-checks.js';
import { runawayRound } from './runaway-prober.js';
import type { RunawayRound } from './runaway-prober.js';
import { RuntimeUnderTest } from './runtime-under-test.js';
import type { Generation } from './runtime-under-test.js';
import { printSummary } from './summary.js';
import { pollUntil, readLog, sleep } from './runtime-reads.js';

const LONG = process.env.THALO_TORTURE_LONG === '1';
const CONFIG = LONG
  ? { clients: 8, accounts: 4, crashes: 30, gapMs: [500, 8_000], settleMs: 2_000, badInputPauseMs: 50 }
  : { clients: 5, accounts: 3, crashes: 8, gapMs: [1_000, 4_000], settleMs: 1_500, badInputPauseMs: 100 };
const SEED = Number(process.env.THALO_TORTURE_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** The runtime-process helper starts every runtime with `--workers 2`. */
const SHARDS = 2;
const COMMAND_TIMEOUT_MS = 1_000;
const CATCH_UP_MS = 60_000;

const useRedis = !skipped(REDIS);
const useNats = !skipped(NATS);
const names = relayNames(`${process.pid}_${Date.now()}`);

/** Everything the scenario saw, for the checks below. */
interface Run {
  runtime: RuntimeUnderTest;
  ledger: CommandLedger;
  clients: BankClient[];
  subscriber: BalanceSubscriber;
  badInputs: BadInputResult[];
  runaway: RunawayRound[];
  crashes: number;
  log: LoggedEvent[];
  redis: Map<string, string[]>;
  jetStream: string[];
  /** Answers of the cold start at the end: a withdrawal of balance + 1 from each account. */
  probes: { account: string; expected: number; status: number; code?: string; balance?: unknown }[];
  /** The module files after the run, and the example builds they were copied from. */
  moduleFiles: { name: string; same: boolean }[];
  servedModules: string[];
  /** `GET /v1/projections` after the clients stopped and every consumer caught up. */
  projections: { name: string; kind: string; position: number; lag: number }[];
  /** The status of a read of an id of 200 bytes (valid: stream names go up to 256 bytes). */
  longIdRead: number;
  gracefulExit: number | null;
  durationMs: number;
}

let run: Run | undefined;
/** Held apart from `run`, so that a scenario that failed half-way still lets its runtime go. */
let underTest: RuntimeUnderTest | undefined;
const started = Date.now();

/** Progress lines on stderr with THALO_TORTURE_VERBOSE=1, to see where a slow run spends its time. */
function progress(message: string): void {
  if (process.env.THALO_TORTURE_VERBOSE === '1')
    process.stderr.write(`[torture +${((Date.now() - started) / 1000).toFixed(1)} s] ${message}\n`);
}

async function scenario(): Promise<Run> {
  const root = tempRoot();
  await buildFixture('runaway', root.modules);
  await buildFixture('rogue', root.modules);
  const originals = ['bank_account', 'counter', 'rogue', 'runaway', 'todos'].map((name) => ({
    name,
    bytes: readFileSync(join(root.modules, `${name}.wasm`)),
  }));
  const runtime = new RuntimeUnderTest(root, [
    '--command-timeout',
    String(COMMAND_TIMEOUT_MS),
    '--snapshot-every',
    '10',
    ...relayArgs(names, useRedis, useNats),
  ]);
  underTest = runtime;
  await runtime.start();

  const random = seededRandom(SEED);
  const ledger = new CommandLedger(runtime);
  const clients = Array.from({ length: CONFIG.clients }, (_, k) => new BankClient(k, ledger, CONFIG.accounts, seededRandom(SEED + k + 1)));
  const subscriber = new BalanceSubscriber(runtime, 'torture-balances');
  subscriber.start();

  let stopped = false;
  const isStopped = () => stopped;
  const clientRuns = clients.map((client) => client.run(isStopped));
  const badInputs = sendBadInputs(runtime, isStopped, seededRandom(SEED - 1), CONFIG.badInputPauseMs);
  const runaway: RunawayRound[] = [];
  const runawayRuns = (async () => {
    for (let round = 0; !stopped; round++) {
      runaway.push(await runawayRound(ledger, round, SHARDS));
      await sleep(1_000 + random() * 2_000);
    }
  })();

  let crashes = 0;
  for (; crashes < CONFIG.crashes; crashes++) {
    await sleep(CONFIG.gapMs[0]! + random() * (CONFIG.gapMs[1]! - CONFIG.gapMs[0]!));
    await runtime.crash();
    progress(`SIGKILL ${crashes + 1} survived; ${ledger.commands.length} commands so far, ${ledger.faults.length} faults`);
  }
  // Load on the last generation too, then let every client settle what it has in flight.
  await sleep(CONFIG.settleMs);
  stopped = true;
  progress('stopping the clients');
  await Promise.all([...clientRuns, runawayRuns]);
  const badInputResults = await badInputs;
  progress('clients stopped');

  const serving = await runtime.serving();
  const lastPosition = (await request(`${serving.url}/v1/events?from=1&limit=1`)).body.lastPosition as number;
  // The relays are at least once and asynchronous: wait (bounded) until both have it all.
  const redis = useRedis ? await redisCaughtUp(names, lastPosition, CATCH_UP_MS) : new Map<string, string[]>();
  const jetStream = useNats
    ? await pollUntil(
        () => jetStreamEventIds(names),
        (ids) => ids.length >= lastPosition,
        CATCH_UP_MS,
      )
    : [];
  progress(`relays caught up (log at ${lastPosition})`);
  await subscriber.waitFor(lastPosition, CATCH_UP_MS).catch((error: Error) => subscriber.problems.push(error.message));
  await subscriber.stop();
  // What the runtime itself says of its consumers once the dust settles: nothing left to do.
  const projections = (await pollUntil(
    async () => ((await request(`${serving.url}/v1/projections`)).body?.projections ?? []) as Run['projections'],
    (list) => list.length > 0 && list.every((p) => p.lag === 0),
    CATCH_UP_MS,
  )) as Run['projections'];
  const log = await readLog(serving.url);
  progress('subscriber caught up, log read');

  // A cold start on the same data: every aggregate is rebuilt from its snapshot and events.
  const gracefulExit = await runtime.stop();
  const cold: Generation = await runtime.restart();
  const probes: Run['probes'] = [];
  for (const client of clients) {
    for (const account of client.accounts) {
      const path = `/v1/aggregates/bank_account/${encodeURIComponent(account.id)}/commands/Withdraw`;
      const { status, body } = await request(`${cold.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: account.balance + 1 }),
      });
      probes.push({ account: account.id, expected: account.balance, status, code: body?.data?.code, balance: body?.data?.data?.balance });
    }
  }
  // Not malformed: an id of 200 bytes makes a stream name within the documented 256 bytes.
  const longIdRead = (await request(`${cold.url}/v1/aggregates/bank_account/${'l'.repeat(200)}/events`)).status;
  const servedModules = ((await request(`${cold.url}/v1/modules`)).body.modules as { name: string }[]).map((m) => m.name);
  const moduleFiles = originals.map(({ name, bytes }) => ({
    name,
    same: Buffer.compare(readFileSync(join(root.modules, `${name}.wasm`)), bytes) === 0,
  }));
  await runtime.stop();

  return {
    runtime,
    ledger,
    clients,
    subscriber,
    badInputs: badInputResults,
    runaway,
    crashes,
    log,
    redis,
    jetStream,
    probes,
    moduleFiles,
    servedModules,
    projections,
    longIdRead,
    gracefulExit,
    durationMs: Date.now() - started,
  };
}

/** The run, or a failure that says the scenario itself did not complete. */
function result(): Run {
  if (!run) throw new Error('the torture scenario did not complete; see the error of beforeAll');
  return run;
}

beforeAll(
  async () => {
    if (useRedis) await requireService(REDIS);
    if (useNats) await requireService(NATS);
    run = await scenario();
  },
  LONG ? 1_800_000 : 300_000,
);

afterAll(async () => {
  underTest?.close();
  if (run) printSummary(run, { seed: SEED, long: LONG });
  await deleteRelayed(names, useRedis, useNats);
});

describe('thalo-runtime under SIGKILL, bad input and a runaway module', () => {
  it('survived every SIGKILL, and nothing else ended a process: no input crashed it', () => {
    const { runtime, crashes, gracefulExit } = result();
    expect.soft(crashes, 'SIGKILLs survived').toBe(CONFIG.crashes);
    const unexpected = runtime
      .unexpectedExits()
      .map((g) => `generation ${g.index} exited with ${g.exit!.code ?? g.exit!.signal}; last log lines:\n${g.exit!.lastLogs.join('\n')}`);
    expect.soft(unexpected, 'processes that ended without our signal').toEqual([]);
    expect.soft(gracefulExit, 'exit code of the SIGTERM after the run').toBe(0);
  });

  it('every acknowledged command is in the log exactly once; no unacknowledged command wrote anything', () => {
    const { ledger, log } = result();
    const pending = ledger.commands.filter((c) => c.outcome === 'pending').map((c) => c.commandId);
    expect.soft(pending, 'commands never settled').toEqual([]);
    expect.soft(commandProblems(log, ledger.commands), 'the log against what the clients were told').toEqual([]);
    expect.soft(ledger.commands.filter((c) => c.outcome === 'acknowledged').length, 'acknowledged commands').toBeGreaterThan(100);
  });

  it('a command id sent again (after a lost answer, or on purpose) was appended once', () => {
    const { ledger, log } = result();
    const { retried, problems } = retriedProblems(log, ledger.commands);
    expect.soft(problems, 'retried command ids whose events are not in the log exactly once').toEqual([]);
    expect.soft(retried, 'commands retried after an answer was lost to a SIGKILL').toBeGreaterThan(0);
    const wrong = ledger.resends
      .filter((r) => !r.duplicate || !r.sameEvents)
      .map((r) => `${r.original.commandId}: duplicate ${r.duplicate}, same events ${r.sameEvents}`);
    expect.soft(wrong, 'resends of an acknowledged command id not answered with the original events').toEqual([]);
    expect.soft(ledger.resends.length, 'deliberate resends').toBeGreaterThan(0);
  });

  it('the global log is dense', () => {
    const { log } = result();
    expect.soft(globalGaps(log), 'positions of the global log').toEqual([]);
  });

  it("every stream's seq is dense", () => {
    const { log } = result();
    expect.soft(streamGaps(log), 'seqs per stream').toEqual([]);
  });

  it("every account's balance, rebuilt from the log and by the aggregate on a cold start, is what its client was told, and never went negative", () => {
    const { clients, log, probes } = result();
    const known = Object.fromEntries(clients.flatMap((c) => c.accounts.map((a) => [a.id, a.balance])));
    expect
      .soft(rebuildBalances(log).balances, "balances rebuilt from the log with applyBalances vs. the clients' acknowledged commands")
      .toEqual(known);
    const wrong = probes.filter((p) => p.status !== 422 || p.code !== 'INSUFFICIENT_FUNDS' || p.balance !== p.expected);
    expect.soft(wrong, 'withdrawals of balance + 1 after a cold start must be refused naming the known balance').toEqual([]);
    expect.soft(negativeBalances(log), 'accounts that went below 0 in the log').toEqual([]);
    const negative = clients.flatMap((c) => c.accounts.filter((a) => a.lowest < 0).map((a) => `${a.id}: ${a.lowest}`));
    expect.soft(negative, 'accounts that went below 0 by the acknowledged commands').toEqual([]);
  });

  it("each client's answers agreed with what it knew of its own accounts", () => {
    const { ledger, log } = result();
    const histories = surpriseHistories(ledger.surprises, log, ledger.commands).join('\n');
    expect
      .soft(ledger.surprises, `answers that contradict the client's model (wrong rejection, conflict or version)\n${histories}`)
      .toEqual([]);
    const outcomes = new Set(ledger.commands.filter((c) => c.aggregate === 'bank_account').map((c) => c.outcome));
    expect.soft([...outcomes].sort(), 'the mix of outcomes the clients provoked').toEqual(['acknowledged', 'conflict', 'rejected']);
  });

  it("the projection's read model equals a recomputation from the log", () => {
    const { subscriber, log, projections } = result();
    expect.soft(subscriber.problems, 'the remote subscriber: refused requests, skips, a checkpoint not kept').toEqual([]);
    expect.soft(subscriber.applied, 'the last position the subscriber applied').toBe(log.length);
    expect.soft(subscriber.model.balances, 'the read model vs. applyBalances over the whole log').toEqual(rebuildBalances(log).balances);
    expect.soft(subscriber.connections, 'subscriber connections (one per generation at least)').toBeGreaterThan(CONFIG.crashes);
    const kinds = ['subscriber', ...(useRedis || useNats ? ['relay'] : [])];
    expect
      .soft(
        projections.filter((p) => kinds.includes(p.kind)).map(({ name, kind, position, lag }) => ({ name, kind, position, lag })),
        "GET /v1/projections at the end: the subscriber's stored checkpoint and the relays' at the last position",
      )
      .toEqual([
        ...(useRedis ? [{ name: `relay:redis://127.0.0.1:${REDIS.port}`, kind: 'relay', position: log.length, lag: 0 }] : []),
        ...(useNats ? [{ name: `relay:nats://127.0.0.1:${NATS.port}`, kind: 'relay', position: log.length, lag: 0 }] : []),
        { name: subscriber.name, kind: 'subscriber', position: log.length, lag: 0 },
      ]);
  });

  it.skipIf(!useRedis)('Redis holds every event at least once, in log order per stream key', () => {
    const { redis, log } = result();
    const relayed = new Set([...redis.values()].flat());
    const missing = log.filter((e) => !relayed.has(e.id)).map((e) => `${e.position} ${e.stream} ${e.id}`);
    expect.soft(missing.slice(0, 20), `events missing from Redis (${missing.length} of ${log.length})`).toEqual([]);
    const logged = new Set(log.map((e) => e.id));
    expect
      .soft(
        [...relayed].filter((id) => !logged.has(id)),
        'events in Redis that the log does not hold',
      )
      .toEqual([]);
    for (const [key, ids] of redis) {
      const category = key.slice(names.prefix.length + 1);
      const firsts = [...new Set(ids)];
      expect.soft(firsts, `order of ${key}`).toEqual(log.filter((e) => e.stream.startsWith(`${category}-`)).map((e) => e.id));
    }
  });

  it.skipIf(!useNats)('JetStream holds every event exactly once, in log order', () => {
    const { jetStream, log } = result();
    expect.soft(jetStream.length, 'messages in the JetStream stream vs. events in the log').toBe(log.length);
    expect.soft(jetStream, 'the Nats-Msg-Id of each message, in stream order, vs. the log').toEqual(log.map((e) => e.id));
  });

  it('every malformed request got a 4xx with a stable code, every rogue module result its documented code, and the broken uploads changed no module', () => {
    const { badInputs, moduleFiles, servedModules, longIdRead } = result();
    const wrong = badInputs.filter((r) => !r.ok).map((r) => `${r.name}: got ${r.status} ${r.code}, expected ${r.expected}`);
    expect.soft([...new Set(wrong)], 'malformed requests answered otherwise than documented').toEqual([]);
    const tried = new Set(badInputs.map((r) => r.name));
    expect
      .soft(
        BAD_INPUTS.filter((b) => !tried.has(b.name)).map((b) => b.name),
        'malformed requests never tried',
      )
      .toEqual([]);
    expect
      .soft(
        moduleFiles.filter((f) => !f.same).map((f) => f.name),
        'module files changed by the broken uploads',
      )
      .toEqual([]);
    expect.soft(longIdRead, "a read of a valid id of 200 bytes (docs: ids up to the stream name's 256 bytes)").toBe(200);
    expect.soft(servedModules, 'modules served at the end').toEqual(['bank_account', 'counter', 'inventory', 'rogue', 'runaway', 'todos']);
  });

  it('the runaway module cost only its own commands a timeout; other aggregates kept being served', () => {
    const { runaway, ledger } = result();
    expect.soft(runaway.length, 'runaway rounds').toBeGreaterThan(2);
    const loops = runaway.map((r) => r.loop);
    expect
      .soft(
        loops.filter((l) => l.outcome !== 'timeout').map((l) => `${l.id}: ${l.outcome} ${l.code}`),
        'Loop commands not answered 504 COMMAND_TIMEOUT',
      )
      .toEqual([]);
    const others = ledger.commands.filter((c) => c.aggregate !== 'runaway' && c.outcome === 'timeout');
    expect
      .soft(
        others.map((c) => `${c.aggregate} ${c.id} ${c.command}`),
        'other commands that timed out',
      )
      .toEqual([]);
    expect.soft(ledger.faults, "answers 5xx (other than the runaway's 504)").toEqual([]);
    const starved = runaway.filter((r) => {
      const start = r.loop.lastAttemptAt!;
      const end = r.loop.answeredAt!;
      return !ledger.commands.some(
        (c) => c.aggregate !== 'runaway' && c.outcome === 'acknowledged' && c.lastAttemptAt! >= start && c.answeredAt! <= end,
      );
    });
    expect
      .soft(
        starved.map((r) => r.loop.id),
        'Loop commands during which no other command was acknowledged',
      )
      .toEqual([]);
    expect
      .soft(
        runaway.filter((r) => r.behind.outcome !== 'acknowledged').map((r) => r.behind.id),
        'commands queued behind a Loop on its shard that were not acknowledged',
      )
      .toEqual([]);
  });
});
