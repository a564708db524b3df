/**
 * The wasm host: loads aggregate modules (ABI v1, docs/abi.md) and runs them.
 */
export {
  ABI_VERSION,
  AggregateModule,
  DEFAULT_MAX_GUEST_MEMORY_BYTES,
  DEFAULT_VALIDATION_TIMEOUT_MS,
  compileModule,
  loadModule,
} from './aggregate-module.js';
export type { InstanceOptions, ModuleLimits } from './aggregate-module.js';
export { GUEST_LOG_LIMITS } from './guest-log.js';
export { MAX_MODULE_BYTES, isMissingFile, readModuleFile } from './module-file.js';
export { AggregateInstance } from './aggregate-instance.js';
export type { GuestLogger } from './guest-imports.js';
export type { ResultLimits } from './result-reader.js';
export type {
  AggregateHandle,
  EmittedEvent,
  EventsOutcome,
  GuestEvent,
  HandleOutcome,
  MemoryLimit,
  ModuleDescription,
  ModuleFacts,
  RejectionOutcome,
} from './types.js';
