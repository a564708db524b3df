export { Engine, streamOf } from './engine.js';
export type { LoadedModule, RefusedModule } from './module-registry.js';
export type { EngineOptions, ExecuteOptions, ExecuteResult, ExecutedEvent, RejectionData } from './types.js';
