/**
 * The narrow port of the event log that its consumers (projections, relays, the live
 * subscription, remote subscribers) are built on: read from a position, the head, checkpoints,
 * and notices of commits and of the close. The engine hands one out as `engine.log`; a consumer
 * needs nothing else of it, so it never holds the engine, and the engine runs no consumer.
 *
 * @example
 *   const consumers = new Consumers(engine.log);
 *   consumers.project('audit', (events) => { for (const e of events) console.log(e.position) });
 */
import type { EventStoreContract } from '../store/contract.js';

/**
 * The store's own promises for reading the log and keeping checkpoints (`EventStoreContract`
 * documents each), plus the notices only the engine can give.
 */
export interface EventLog extends Pick<
  EventStoreContract,
  'readAll' | 'lastPosition' | 'getCheckpoint' | 'setCheckpoint' | 'advanceCheckpoint' | 'deleteCheckpoint' | 'listCheckpoints'
> {
  /** Call `listener` with the last position after each commit. Returns the unsubscribe function. */
  onCommit(listener: (position: number) => void): () => void;
  /**
   * Call (and await) `listener` when the log is about to close, after the last command is
   * answered and before the store goes: a consumer stops there and stores its last checkpoint.
   * Returns the unsubscribe function.
   */
  onClose(listener: () => Promise<void> | void): () => void;
}
