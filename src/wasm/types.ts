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

/** What `handle` returns when the aggregate accepts the command. */
export interface EventsOutcome {
  kind: 'events';
  /** Event data is the guest's msgpack bytes, untouched. */
  events: GuestEvent[];
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
