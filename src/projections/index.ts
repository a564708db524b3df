export { Projection } from './projection.js';
export type { ProjectionContext, ProjectionDefinition, ProjectionFilter, ProjectionHandler, ProjectionInfo, ProjectionOptions, ProjectionStatus } from './types.js';
