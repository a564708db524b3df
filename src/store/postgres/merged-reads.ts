/**
 * Reads issued in the same turn of the event loop, merged: every `snapshot(stream)` call made
 * before the turn ends becomes one query, and so do the `stream(stream, from, limit)`,
 * `command(commandId)` and `version(stream)` calls. A worker asks for a round's states, command
 * ids and cached versions all at once; without this, each would cost a round trip to the
 * database, one after the other.
 */
import type { Snapshot, StoredEvent } from '../types.js';
import type { CommandRow } from './append-plan.js';

export interface StreamRead {
  stream: string;
  from: number;
  limit: number;
}

interface Waiting<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export interface MergedQueries {
  /** The latest snapshot of each of `streams` that has one. */
  snapshots(streams: string[]): Promise<Map<string, Snapshot>>;
  /** For each request, its stream's events from `from`, at most `limit`, in seq order. */
  streams(requests: StreamRead[]): Promise<StoredEvent[][]>;
  /** The version of each of `streams` that has events. */
  versions(streams: string[]): Promise<Map<string, number>>;
  /** The record of each of `commandIds` that has one. */
  commands(commandIds: string[]): Promise<Map<string, CommandRow>>;
}

/** Reads by key waiting for the next flush: each key asked once, every caller of it answered. */
class KeyedWaits<T> {
  private waits = new Map<string, Waiting<T>[]>();

  add(key: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const waits = this.waits.get(key);
      if (waits) waits.push({ resolve, reject });
      else this.waits.set(key, [{ resolve, reject }]);
    });
  }

  /** Takes the waits so far and answers them with one `query` of their keys; a key it lacks gets `missing`. */
  flush(query: (keys: string[]) => Promise<Map<string, T>>, missing: T): void {
    const waiting = this.waits;
    if (waiting.size === 0) return;
    this.waits = new Map();
    query([...waiting.keys()]).then(
      (found) => {
        for (const [key, waits] of waiting) for (const wait of waits) wait.resolve(found.has(key) ? found.get(key)! : missing);
      },
      (error: unknown) => {
        for (const waits of waiting.values()) for (const wait of waits) wait.reject(error);
      },
    );
  }
}

export class MergedReads {
  private readonly snapshots = new KeyedWaits<Snapshot | undefined>();
  private readonly versions = new KeyedWaits<number>();
  private readonly commands = new KeyedWaits<CommandRow | undefined>();
  private streamWaits: (StreamRead & Waiting<StoredEvent[]>)[] = [];
  private scheduled = false;

  constructor(private readonly queries: MergedQueries) {}

  snapshot(stream: string): Promise<Snapshot | undefined> {
    return this.waitFor(this.snapshots.add(stream));
  }

  version(stream: string): Promise<number> {
    return this.waitFor(this.versions.add(stream));
  }

  command(commandId: string): Promise<CommandRow | undefined> {
    return this.waitFor(this.commands.add(commandId));
  }

  stream(stream: string, from: number, limit: number): Promise<StoredEvent[]> {
    return this.waitFor(new Promise((resolve, reject) => this.streamWaits.push({ stream, from, limit, resolve, reject })));
  }

  private waitFor<T>(read: Promise<T>): Promise<T> {
    if (!this.scheduled) {
      this.scheduled = true;
      // After the promise jobs of this turn, which may issue more reads to merge.
      setImmediate(() => this.flush());
    }
    return read;
  }

  private flush(): void {
    this.scheduled = false;
    this.snapshots.flush((streams) => this.queries.snapshots(streams), undefined);
    this.versions.flush((streams) => this.queries.versions(streams), 0);
    this.commands.flush((commandIds) => this.queries.commands(commandIds), undefined);
    const streams = this.streamWaits;
    this.streamWaits = [];
    if (streams.length > 0) {
      this.queries.streams(streams).then(
        (pages) => streams.forEach((wait, i) => wait.resolve(pages[i]!)),
        (error: unknown) => {
          for (const wait of streams) wait.reject(error);
        },
      );
    }
  }
}
