/**
 * The wasm host's public types: what the engine's workers use to run aggregate modules.
 * `src/wasm/` implements them; `docs/abi.md` is the contract on the guest side.
 */

/** What a module says about itself (`thalo_describe`). */
export interface ModuleDescription {
  name: string;
  version: string;
  commands: string[];
  events: string[];
}

/** An event going into the guest: stored bytes, handed back untouched. */
export interface GuestEvent {
  type: string;
  data: Uint8Array;
}

/** An event a guest returned from `handle`: its bytes, checked, and their decoded value. */
export interface EmittedEvent extends GuestEvent {
  /** `data` decoded (src/json-values.ts): what callers are answered with. */
  value: unknown;
}

/** What `handle` returns when the aggregate accepts the command. */
export interface EventsOutcome {
  kind: 'events';
  /** Event data is the guest's msgpack bytes, untouched. */
  events: EmittedEvent[];
}

/** A business rejection from the aggregate: an expected outcome, not a crash. */
export interface RejectionOutcome {
  kind: 'rejected';
  code: string;
  message: string;
  data?: unknown;
}

export type HandleOutcome = EventsOutcome | RejectionOutcome;

/** A guest-side aggregate state, owned by the instance that created it. */
export type AggregateHandle = number;

/** The most bytes an instance's memory may reach, and who set that (memory-limit.ts). */
export interface MemoryLimit {
  bytes: number;
  /** `runtime`: the runtime's cap, below the module's own maximum if it has one; `module`: the module's declared maximum. */
  setBy: 'runtime' | 'module';
}

/** What validating a module learned: all a worker needs to serve it without running its code first. */
export interface ModuleFacts {
  description: ModuleDescription;
  supportsSnapshots: boolean;
  memoryLimit: MemoryLimit;
  /** True when a refused `memory.grow` is recorded in the `GROW_FAILED_EXPORT` global (grow-probe.ts). */
  growProbed: boolean;
}
