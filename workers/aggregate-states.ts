/**
 * The worker's aggregate states: one wasm instance per module, and an LRU cache of guest
 * handles keyed by stream.
 *
 * The cache is an optimisation, never the truth (docs/architecture.md): any doubt about a state (a trap, a
 * failed commit) evicts it, and the next command rebuilds it from the latest snapshot plus the
 * events after it. Evicting drops the guest handle so guest memory is reclaimed.
 */
import { LRUCache } from 'lru-cache';
import { ThaloError } from '../src/errors.js';
import type { EventStoreContract } from '../src/store/index.js';
import { AggregateModule } from '../src/wasm/index.js';
import type { AggregateInstance, InstanceOptions } from '../src/wasm/index.js';
import type { AggregateHandle } from '../src/wasm/types.js';
import type { ModuleRef } from '../src/protocol/messages.js';

/** Events read per `readStream` call while rebuilding, to bound memory on long streams. */
const REBUILD_CHUNK = 2048;

/** A module as this worker serves it: the compiled module and its one live instance. */
export interface ModuleSlot {
  ref: ModuleRef;
  module: AggregateModule;
  instance: AggregateInstance;
  /** Set when `thalo_snapshot` failed: this version of the module is not asked for snapshots again. */
  snapshotsOff?: boolean;
}

/** A cached aggregate state. */
export interface AggregateState {
  stream: string;
  slot: ModuleSlot;
  /** The instance the handle belongs to; stale once the slot's instance was replaced. */
  instance: AggregateInstance;
  handle: AggregateHandle;
  /** The stream seq the state includes (speculatively, during a batch). */
  version: number;
  /** The seq of the last snapshot written or restored. */
  snapshotSeq: number;
}

export class AggregateStates {
  private readonly modules = new Map<string, ModuleSlot>();
  private readonly cache: LRUCache<string, AggregateState>;

  constructor(
    private readonly store: EventStoreContract,
    cacheSize: number,
    /** Limits for every instance (payload size, events per command, event size) and the guest log. */
    private readonly instanceOptions: InstanceOptions = {},
  ) {
    this.cache = new LRUCache<string, AggregateState>({
      max: cacheSize,
      dispose: (state) => {
        // A poisoned or replaced instance took its handles with it: nothing to drop.
        if (state.instance === state.slot.instance && !state.instance.poisoned) state.instance.drop(state.handle);
      },
    });
  }

  /** Load (or reload) modules; returns the ones that failed. A module that fails keeps its previous version. */
  load(refs: ModuleRef[]): { ref: ModuleRef; error: unknown }[] {
    const failures: { ref: ModuleRef; error: unknown }[] = [];
    for (const ref of refs) {
      const current = this.modules.get(ref.name);
      if (current && current.ref.version >= ref.version) continue;
      try {
        const module = AggregateModule.fromValidated(ref.compiled, ref.file, ref.facts);
        if (current) this.forgetModule(current);
        this.modules.set(ref.name, { ref, module, instance: this.instantiate(module) });
      } catch (error) {
        failures.push({ ref, error });
      }
    }
    return failures;
  }

  /** Stop serving modules that are not in `names`. */
  retain(names: Set<string>): void {
    for (const [name, slot] of this.modules) {
      if (!names.has(name)) {
        this.forgetModule(slot);
        this.modules.delete(name);
      }
    }
  }

  /** The module serving `aggregate`, with a live instance: one poisoned by a trap is replaced here at the latest. */
  slot(aggregate: string): ModuleSlot {
    const slot = this.modules.get(aggregate);
    if (!slot) throw new ThaloError('AGGREGATE_NOT_FOUND', `no module is loaded for aggregate "${aggregate}"`, { data: { aggregate } });
    if (slot.instance.poisoned) this.replaceInstance(slot);
    return slot;
  }

  /** The cached state, if it is still valid. */
  cached(stream: string): AggregateState | undefined {
    const state = this.cache.get(stream);
    if (state && state.instance !== state.slot.instance) {
      this.cache.delete(stream);
      return undefined;
    }
    return state;
  }

  /**
   * Rebuild a state from its snapshot (when the module supports them and `useSnapshot` is left
   * on) plus the events after it, and cache it.
   */
  async rebuild(slot: ModuleSlot, stream: string, id: string, useSnapshot = true): Promise<AggregateState> {
    const { instance } = slot;
    let handle: AggregateHandle | undefined;
    let version = 0;
    if (useSnapshot && slot.module.supportsSnapshots) {
      const snapshot = await this.store.getSnapshot(stream);
      if (snapshot) {
        try {
          handle = instance.restore(id, snapshot.state);
          version = snapshot.seq;
        } catch (error) {
          // A snapshot the module cannot read (its state format changed): replay everything.
          if (instance.poisoned) throw error;
        }
      }
    }
    handle ??= instance.create(id);
    const state: AggregateState = { stream, slot, instance, handle, version, snapshotSeq: version };
    try {
      for (;;) {
        const events = await this.store.readStream(stream, { from: state.version + 1, limit: REBUILD_CHUNK });
        if (events.length === 0) break;
        instance.apply(handle, events);
        state.version = events[events.length - 1]!.seq;
        // A short chunk is the stream's end as of the read, which saw every commit before it began.
        if (events.length < REBUILD_CHUNK) break;
      }
    } catch (error) {
      if (!instance.poisoned) instance.drop(handle);
      throw error;
    }
    this.cache.set(stream, state);
    return state;
  }

  evict(stream: string): void {
    this.cache.delete(stream);
  }

  /**
   * After a guest fault: if the instance is poisoned, replace it and forget every state that
   * lived in it; otherwise evict only `stream`.
   */
  recover(slot: ModuleSlot, stream: string): void {
    if (!slot.instance.poisoned) {
      this.evict(stream);
      return;
    }
    this.replaceInstance(slot);
  }

  /**
   * `state`'s snapshot, or undefined when `thalo_snapshot` failed. A snapshot is an optimisation,
   * so its failure must not fail the command whose events it follows: it is logged once, the
   * module's snapshots are turned off in this worker (until a new version loads), since every
   * later snapshot would likely fail the same way, and a poisoned instance is replaced. The
   * state's events stay valid: they were applied before the snapshot was asked for.
   */
  snapshot(state: AggregateState): Uint8Array | undefined {
    try {
      return state.instance.snapshot(state.handle);
    } catch (error) {
      const { slot } = state;
      slot.snapshotsOff = true;
      const message = error instanceof Error ? error.message : String(error);
      this.instanceOptions.log?.(
        3,
        `thalo_snapshot failed for stream ${state.stream}: ${message}; the command goes on without a snapshot, and this module's snapshots are off in this worker until it is reloaded`,
        slot.module.file,
      );
      if (state.instance.poisoned) this.recover(slot, state.stream);
      return undefined;
    }
  }

  /** A fresh instance for `slot`; every state of the old one goes with it (and its memory with them). */
  private replaceInstance(slot: ModuleSlot): void {
    const old = slot.instance;
    slot.instance = this.instantiate(slot.module);
    for (const [key, state] of this.cache.entries()) {
      if (state.instance === old) this.cache.delete(key);
    }
  }

  private instantiate(module: AggregateModule): AggregateInstance {
    return module.instantiate(this.instanceOptions);
  }

  private forgetModule(slot: ModuleSlot): void {
    for (const [key, state] of this.cache.entries()) {
      if (state.slot === slot) this.cache.delete(key);
    }
  }
}
