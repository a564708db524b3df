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
  /**
   * Where the checkpoint is read and written instead of the log's own checkpoints: a cluster
   * node running the projection under a lease gives a writer that stores it only while the
   * lease's fence is current (src/cluster/fenced-checkpoints.ts). Default: the log's.
   */
  checkpoints?: ProjectionCheckpoints;
}

/**
 * A projection's checkpoint, read once at start and written after each batch. `set` may refuse
 * (reject); the projection then records the error and replays from the last stored checkpoint
 * on its next start, as after a crash.
 */
export interface ProjectionCheckpoints {
  get(name: string): Promise<number | undefined> | number | undefined;
  set(name: string, position: number): Promise<void>;
}

/**
 * `standby`: a cluster node that runs the projection (or relay) only while it holds its lease,
 * and does not now: another node runs it, or nobody yet.
 */
export type ProjectionStatus = 'running' | 'paused' | 'retrying' | 'stopped' | 'standby';

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
