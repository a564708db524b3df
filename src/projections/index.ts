export { Projection } from './projection.js';
export type { ProjectionContext, ProjectionFilter, ProjectionHandler, ProjectionInfo, ProjectionOptions, ProjectionStatus } from './types.js';
