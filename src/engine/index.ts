export { Engine, streamOf } from './engine.js';
export type { LoadedModule, RefusedModule } from './module-registry.js';
// The one safe way to read a module file, for the runtime's watched directory (src/server/), and
// the defaults of the module limits, for the runtime's flags.
export {
  DEFAULT_MAX_GUEST_MEMORY_BYTES,
  DEFAULT_VALIDATION_TIMEOUT_MS,
  MAX_MODULE_BYTES,
  isMissingFile,
  readModuleFile,
} from '../wasm/index.js';
export type { EngineOptions, ExecuteOptions, ExecuteResult, ExecutedEvent, RejectionData } from './types.js';
export type { CommitUse } from '../protocol/messages.js';
