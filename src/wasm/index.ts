/**
 * The wasm host: loads aggregate modules (ABI v1, docs/abi.md) and runs them.
 */
export { ABI_VERSION, AGGREGATE_NAME, AggregateModule, compileModule, loadModule } from './aggregate-module.js';
export type { InstanceOptions } from './aggregate-module.js';
export { AggregateInstance } from './aggregate-instance.js';
export type { GuestLogger } from './guest-imports.js';
export type { AggregateHandle, EventsOutcome, GuestEvent, HandleOutcome, ModuleDescription, RejectionOutcome } from './types.js';
