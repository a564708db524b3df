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
import type { CheckpointEntry, ReadAllOptions, StoredEvent } from '../store/types.js';

export interface EventLog {
  /** Events from `options.from` on, in position order, as stored (data not decoded). */
  readAll(options: ReadAllOptions): StoredEvent[];
  /** The position of the last committed event, 0 when the log is empty. */
  lastPosition(): number;
  /** The checkpoint stored under `name`, if any. */
  getCheckpoint(name: string): number | undefined;
  /** Store `position` under `name` (durably), also when it is lower than the stored one: a reset. */
  setCheckpoint(name: string, position: number): Promise<void>;
  /** Move `name`'s checkpoint forward to `position` (never back); resolves with the checkpoint now stored. */
  advanceCheckpoint(name: string, position: number): Promise<number>;
  /** Remove `name`'s checkpoint (durably); resolves with whether there was one. */
  deleteCheckpoint(name: string): Promise<boolean>;
  /** The stored checkpoints whose names start with `prefix`, in name order. */
  listCheckpoints(prefix: string): CheckpointEntry[];
  /** Call `listener` with the last position after each commit. Returns the unsubscribe function. */
  onCommit(listener: (position: number) => void): () => void;
  /**
   * Call (and await) `listener` when the log is about to close, after the last command is
   * answered and before the store goes: a consumer stops there and stores its last checkpoint.
   * Returns the unsubscribe function.
   */
  onClose(listener: () => Promise<void> | void): () => void;
}
