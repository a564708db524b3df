/**
 * The public types of projections: consumers of the global log with an at-least-once guarantee.
 */
import type { ExecutedEvent } from '../protocol/commands.js';

/** Which events a projection receives. Every listed criterion must match; an absent one matches all. */
export interface ProjectionFilter {
  /** Aggregate names (the stream's category: `bank_account` for `bank_account-42`). */
  aggregates?: string[];
  /** Whole stream names. */
  streams?: string[];
  /** Event types. */
  types?: string[];
}

export interface ProjectionContext {
  name: string;
  /** The global position of the last event of the log range this batch covers. */
  position: number;
}

/**
 * Receives the matching events of one batch, in log order. May be async. If it throws (or its
 * promise rejects), the same batch is delivered again after a backoff: nothing is ever skipped.
 */
export type ProjectionHandler = (events: ExecutedEvent[], context: ProjectionContext) => void | Promise<void>;

export interface ProjectionOptions {
  /** Where to start when the projection has no checkpoint yet: the first position to deliver. Default 1. */
  from?: number;
  filter?: ProjectionFilter;
  /** Log events read per batch (before filtering). Default 1,000. */
  batchSize?: number;
  /** How long to sleep when no commit notice arrives, in ms. Default 1,000. */
  pollIntervalMs?: number;
  /** Backoff after a failed batch: starts at this many ms and doubles. Default 100. */
  retryInitialMs?: number;
  /** Largest backoff. Default 30,000 ms. */
  retryMaxMs?: number;
  /** Called on every failed attempt, with the error and the number of consecutive failures. */
  onError?: (error: unknown, failures: number) => void;
}

export type ProjectionStatus = 'running' | 'paused' | 'retrying' | 'stopped';

export interface ProjectionInfo {
  name: string;
  status: ProjectionStatus;
  /** The last position processed (the checkpoint); 0 before the first batch. */
  position: number;
  /** Events in the log after the checkpoint. */
  lag: number;
  /** Consecutive failed attempts of the current batch. */
  failures: number;
  lastError?: string;
}

/**
 * A projection as a module of its own, for `thalo-runtime --projection <file>`: the file's default
 * export. The runtime calls `consumers.project(name, handle, options)` with it and logs each failure.
 *
 * @example
 *   // audit.js
 *   export default {
 *     name: 'audit',
 *     handle: (events) => { for (const e of events) console.log(e.position, e.type) },
 *     options: { filter: { aggregates: ['bank_account'] } },
 *   };
 */
export interface ProjectionDefinition {
  name: string;
  handle: ProjectionHandler;
  options?: ProjectionOptions;
}
