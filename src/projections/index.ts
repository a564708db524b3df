export { Consumers } from './consumers.js';
export type { Consumer } from './consumers.js';
export { LogFollower } from './log-follower.js';
export type { LogFollowerHandlers, LogFollowerOptions } from './log-follower.js';
export { Projection } from './projection.js';
export type {
  ProjectionCheckpoints,
  ProjectionContext,
  ProjectionDefinition,
  ProjectionFilter,
  ProjectionHandler,
  ProjectionInfo,
  ProjectionOptions,
  ProjectionStatus,
} from './types.js';
