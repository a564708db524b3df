/**
 * Executes one micro-batch of commands for one shard: handle each command in arrival order
 * against its cached state, then commit every accepted command in ONE store transaction (group
 * commit), each command all-or-nothing on its own.
 *
 * State moves speculatively: after `handle`, the events are applied to the cached state at once,
 * because the next command for the same aggregate in this batch must see them. If the command's
 * append then fails (a conflict, a duplicate command id), the aggregate is evicted and rebuilt
 * from the store on its next command, so the cache never outlives a failed write. Commands that
 * could not run against a trustworthy state in this round (their aggregate was evicted while
 * earlier commands of the batch were still uncommitted) run again in a next round, after the
 * commit, in their original order.
 *
 * A cached state can be stale when another process (a cluster node) appended to its stream. So a
 * conflict against a cached state is not the caller's: an expected version that fails against a
 * state from the cache, or an append that conflicts at commit, evicts the aggregate and runs the
 * command again on a state rebuilt from the store, whether or not the caller gave an expected
 * version. Only a check against a state rebuilt in the same round is final, so the caller sees
 * `WRONG_EXPECTED_VERSION` only when its expectation is wrong against the store's head (or the
 * stream kept moving for MAX_ROUNDS rounds). Each such rerun is counted (`staleRetries`).
 */
import { ThaloError, isThaloError, serializeError } from '../src/errors.js';
import type { EventStoreContract } from '../src/store/index.js';
import { checkExpectedVersion, expectedVersionHolds } from '../src/expected-version.js';
import type { AppendRequest, AppendResult, EventMetadata, NewEvent } from '../src/store/types.js';
import type { RejectionData } from '../src/protocol/commands.js';
import { decodeEvent, executedEvent } from '../src/protocol/decode-event.js';
import type { CommandMessage, CommandReply, CommitUse, ExecuteBatch, ExecuteBatchReply } from '../src/protocol/messages.js';
import { STEP_COMMITTED, STEP_COMMITTING } from '../src/protocol/progress-board.js';
import type { ProgressBoard } from '../src/protocol/progress-board.js';
import type { AggregateState, AggregateStates } from './aggregate-states.js';

/** Rounds per batch before a command that keeps losing its state gives up. */
const MAX_ROUNDS = 4;

export interface BatchExecutorOptions {
  snapshotEvery: number;
  /**
   * Other processes write the store too (PostgreSQL, a cluster's nodes): each round first checks
   * its cached states against the streams' versions in the store (one query) and rebuilds those
   * behind. Without it, a command rejected, or answered without events, on a state that another
   * node had moved on would get an answer the stream no longer gives: only an append is checked
   * against the stream's head in the commit.
   */
  sharedStore?: boolean;
}

interface Accepted {
  index: number;
  request: AppendRequest;
  /** Each event's data decoded, checked before the commit (src/wasm/result-reader.ts): the reply's `data`. */
  values: unknown[];
}

export class BatchExecutor {
  constructor(
    private readonly store: EventStoreContract,
    private readonly states: AggregateStates,
    private readonly progress: ProgressBoard,
    private readonly options: BatchExecutorOptions,
  ) {}

  async execute(task: ExecuteBatch): Promise<ExecuteBatchReply> {
    const replies = new Array<CommandReply>(task.commands.length);
    let lastPosition = 0;
    const cache = { hits: 0, misses: 0 };
    const retried = { stale: 0 };
    const commits: CommitUse = { count: 0, appends: 0, seconds: 0 };
    let pending = task.commands.map((_, index) => index);
    try {
      for (let round = 1; pending.length > 0; round++) {
        const retry = round < MAX_ROUNDS ? new Array<number>() : undefined;
        lastPosition = Math.max(lastPosition, await this.round(task, pending, replies, retry, cache, retried, commits));
        pending = retry ?? [];
      }
    } catch (error) {
      // A fault of ours, not of a guest or the store (those are answered per command above).
      // Throwing would make the engine believe the worker died and run the commands again, so
      // every command without an answer gets one that says what is known, and their states go.
      const committing = this.progress.read(task.shard).commitTask === task.seq;
      const said = error instanceof Error ? error.message : String(error);
      task.commands.forEach((command, index) => {
        this.states.evict(command.stream);
        if (replies[index] !== undefined) return;
        const known = committing ? 'it may or may not have been applied (send a command id to retry safely)' : 'it was not applied';
        replies[index] = fail(
          new ThaloError(
            'INTERNAL',
            `${command.aggregate} ${command.id}: ${command.command} failed inside the runtime (${said}); ${known}`,
          ),
        );
      });
    }
    return { type: 'batch-result', replies, lastPosition, cache, staleRetries: retried.stale, commits };
  }

  /** Runs `indices` of the batch; pushes onto `retry` what must run again. Returns the last position committed. */
  private async round(
    task: ExecuteBatch,
    indices: number[],
    replies: CommandReply[],
    retry: number[] | undefined,
    cache: { hits: number; misses: number },
    retried: { stale: number },
    commits: CommitUse,
  ): Promise<number> {
    // The command ids' lookups and the rebuilds go out together (two queries on PostgreSQL).
    const duplicates = this.lookUpCommands(task, indices);
    if (this.options.sharedStore) retried.stale += await this.dropStaleStates(task, indices);
    // Streams whose state was rebuilt from the store in this round: a check against it is final.
    const fresh = await this.rebuildMissing(task, indices, cache);
    const accepted: Accepted[] = [];
    // Streams with uncommitted events in this round: a rebuild from the store would miss them.
    const uncommitted = new Set<string>();
    const deferred = new Set<string>();

    for (const index of indices) {
      const command = task.commands[index]!;
      if (deferred.has(command.stream)) {
        retry!.push(index);
        continue;
      }
      this.progress.mark(task.shard, task.seq, index);
      let state: AggregateState | undefined;
      try {
        const slot = this.states.slot(command.aggregate);
        if (command.commandId !== undefined) {
          // With the stream, a command id recorded for another stream fails here (COMMAND_ID_REUSED), as in the store.
          const previous = await duplicates.get(index);
          if (previous) {
            replies[index] = { ok: true, version: previous.version, events: previous.events.map(decodeEvent), duplicate: true };
            continue;
          }
        }
        state = this.states.cached(command.stream);
        if (!state) {
          if (uncommitted.has(command.stream) && retry) {
            deferred.add(command.stream);
            retry.push(index);
            continue;
          }
          state = await this.states.rebuild(slot, command.stream, command.id);
          fresh.add(command.stream);
        }
        if (
          command.expected !== undefined &&
          retry &&
          !fresh.has(command.stream) &&
          !expectedVersionHolds(command.expected, state.version)
        ) {
          // Against a cached state, the mismatch may be the cache's: check again on the store's head.
          this.states.evict(command.stream);
          deferred.add(command.stream);
          retry.push(index);
          retried.stale++;
          continue;
        }
        if (command.expected !== undefined) checkExpectedVersion(command.stream, command.expected, state.version);
        const outcome = state.instance.handle(state.handle, command.command, command.payload);
        if (outcome.kind === 'rejected') {
          const data: RejectionData = {
            aggregate: command.aggregate,
            id: command.id,
            command: command.command,
            code: outcome.code,
            message: outcome.message,
          };
          if (outcome.data !== undefined) data.data = outcome.data;
          replies[index] = fail(
            new ThaloError(
              'COMMAND_REJECTED',
              `${command.aggregate} ${command.id} rejected ${command.command}: ${outcome.message} (${outcome.code})`,
              { data },
            ),
          );
          continue;
        }
        if (outcome.events.length === 0) {
          replies[index] = { ok: true, version: state.version, events: [], duplicate: false };
          continue;
        }
        state.instance.apply(state.handle, outcome.events);
        const metadata = metadataOf(command);
        const request: AppendRequest = {
          stream: command.stream,
          events: outcome.events.map((event): NewEvent => ({ type: event.type, data: event.data, metadata })),
          expected: state.version,
        };
        if (command.commandId !== undefined) request.commandId = command.commandId;
        // Decided on the state an earlier command of this round left: it commits only if that one did.
        if (uncommitted.has(command.stream)) request.afterPrevious = true;
        state.version += outcome.events.length;
        if (this.snapshotDue(state)) {
          // A failed snapshot is logged and skipped (AggregateStates.snapshot): the command goes on.
          const snapshot = this.states.snapshot(state);
          if (snapshot) request.snapshot = { seq: state.version, state: snapshot };
          state.snapshotSeq = state.version;
        }
        accepted.push({ index, request, values: outcome.events.map((event) => event.value) });
        uncommitted.add(command.stream);
      } catch (error) {
        replies[index] = fail(error);
        // A guest fault may have left the state half-changed, or the whole instance poisoned (a
        // trap, a memory cap reached: replacing the instance gives its memory back at once).
        // Other errors (a conflict, an unknown command) are raised before the guest changed anything.
        if (isThaloError(error, 'GUEST_TRAP') || isThaloError(error, 'GUEST_FAULT') || isThaloError(error, 'GUEST_MEMORY_EXCEEDED')) {
          this.states.recover(state?.slot ?? this.states.slot(command.aggregate), command.stream);
        }
      }
    }

    if (accepted.length === 0) return 0;
    this.progress.mark(task.shard, task.seq, STEP_COMMITTING);
    let outcomes;
    const asked = performance.now();
    try {
      outcomes = await this.store.appendBatch(accepted.map((a) => a.request));
    } catch (error) {
      // The whole transaction failed (disk full, store closed): nothing of it was written.
      for (const a of accepted) {
        this.states.evict(a.request.stream);
        replies[a.index] = fail(error);
      }
      return 0;
    } finally {
      commits.count++;
      commits.appends += accepted.length;
      commits.seconds += (performance.now() - asked) / 1000;
    }
    this.progress.mark(task.shard, task.seq, STEP_COMMITTED);

    let lastPosition = 0;
    outcomes.forEach((outcome, i) => {
      const { index, request, values } = accepted[i]!;
      if (outcome.ok) {
        const { result } = outcome;
        if (result.duplicate) this.states.evict(request.stream);
        // The events were decoded before the commit, so answering a committed command cannot fail.
        const events = result.duplicate ? result.events.map(decodeEvent) : result.events.map((event, e) => executedEvent(event, values[e]));
        replies[index] = { ok: true, version: result.version, events, duplicate: result.duplicate };
        const last = result.events[result.events.length - 1];
        if (!result.duplicate && last) lastPosition = Math.max(lastPosition, last.position);
        return;
      }
      this.states.evict(request.stream);
      // A conflict at commit means the state the command ran on was stale (another process wrote
      // the stream): run it again on a fresh one, where its own expected version is checked anew.
      if (isThaloError(outcome.error, 'WRONG_EXPECTED_VERSION') && retry) {
        retry.push(index);
        retried.stale++;
      } else {
        replies[index] = fail(outcome.error);
      }
    });
    retry?.sort((a, b) => a - b);
    return lastPosition;
  }

  /**
   * Rebuilds, all at once, the states the round will need and the cache lacks, so that a store
   * over the network reads them in a few queries (the PostgreSQL store merges the reads issued
   * together) rather than two round trips per aggregate, one after the other. A rebuild that fails
   * here is left to the command's own rebuild, which answers with its error. Counts, per command,
   * whether its state was cached (a hit; also a command after the first of its aggregate in the
   * round) or had to be rebuilt (a miss).
   */
  private async rebuildMissing(task: ExecuteBatch, indices: number[], cache: { hits: number; misses: number }): Promise<Set<string>> {
    const missing = new Map<string, CommandMessage>();
    for (const index of indices) {
      const command = task.commands[index]!;
      if (missing.has(command.stream) || this.states.cached(command.stream) !== undefined) {
        cache.hits++;
      } else {
        cache.misses++;
        missing.set(command.stream, command);
      }
    }
    const rebuilt = new Set<string>();
    if (missing.size < 2) return rebuilt;
    await Promise.all(
      [...missing.values()].map((command) =>
        Promise.resolve()
          .then(() => this.states.rebuild(this.states.slot(command.aggregate), command.stream, command.id))
          .then(() => rebuilt.add(command.stream))
          .catch(() => undefined),
      ),
    );
    return rebuilt;
  }

  /**
   * Evicts the round's cached states that the store has moved past (another process appended to
   * their streams), reading all their versions at once (one query on PostgreSQL); they are then
   * rebuilt with the round's missing states. Resolves with how many were dropped. A failed read
   * drops nothing: the commit still checks every append against the stream's head.
   */
  private async dropStaleStates(task: ExecuteBatch, indices: number[]): Promise<number> {
    const cached = new Map<string, AggregateState>();
    for (const index of indices) {
      const { stream } = task.commands[index]!;
      const state = cached.has(stream) ? undefined : this.states.cached(stream);
      if (state !== undefined) cached.set(stream, state);
    }
    if (cached.size === 0) return 0;
    const streams = [...cached.keys()];
    const versions = await Promise.all(streams.map((stream) => Promise.resolve().then(() => this.store.streamVersion(stream)))).catch(
      () => undefined,
    );
    if (versions === undefined) return 0;
    let dropped = 0;
    streams.forEach((stream, i) => {
      if (versions[i] === cached.get(stream)!.version) return;
      this.states.evict(stream);
      dropped++;
    });
    return dropped;
  }

  /**
   * Looks up, all at once, the command ids of the round's commands: a store over the network
   * answers them in one query (the PostgreSQL store merges the lookups issued together) rather
   * than a round trip per command, one after the other. Each command awaits its own answer when
   * its turn comes, so a lookup's failure (`COMMAND_ID_REUSED`) fails that command alone.
   */
  private lookUpCommands(task: ExecuteBatch, indices: number[]): Map<number, Promise<AppendResult | undefined>> {
    const lookups = new Map<number, Promise<AppendResult | undefined>>();
    for (const index of indices) {
      const { commandId, stream } = task.commands[index]!;
      if (commandId === undefined) continue;
      const lookup = Promise.resolve().then(() => this.store.findCommand(commandId, stream));
      // Awaited in the command's turn; until then a rejection must not count as unhandled.
      lookup.catch(() => undefined);
      lookups.set(index, lookup);
    }
    return lookups;
  }

  private snapshotDue(state: AggregateState): boolean {
    const every = this.options.snapshotEvery;
    return every > 0 && state.slot.module.supportsSnapshots && !state.slot.snapshotsOff && state.version - state.snapshotSeq >= every;
  }
}

function metadataOf(command: CommandMessage): EventMetadata {
  const metadata: EventMetadata = {};
  if (command.correlationId !== undefined) metadata.correlationId = command.correlationId;
  if (command.causationId !== undefined) metadata.causationId = command.causationId;
  if (command.commandId !== undefined) metadata.commandId = command.commandId;
  if (command.headers !== undefined) metadata.headers = command.headers;
  return metadata;
}

function fail(error: unknown): CommandReply {
  return { ok: false, error: serializeError(error) };
}
