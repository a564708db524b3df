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

export class MergedReads {
  private snapshotWaits = new Map<string, Waiting<Snapshot | undefined>[]>();
  private streamWaits: (StreamRead & Waiting<StoredEvent[]>)[] = [];
  private commandWaits = new Map<string, Waiting<CommandRow | undefined>[]>();
  private versionWaits = new Map<string, Waiting<number>[]>();
  private scheduled = false;

  constructor(private readonly queries: MergedQueries) {}

  snapshot(stream: string): Promise<Snapshot | undefined> {
    return new Promise((resolve, reject) => {
      const waits = this.snapshotWaits.get(stream);
      if (waits) waits.push({ resolve, reject });
      else this.snapshotWaits.set(stream, [{ resolve, reject }]);
      this.schedule();
    });
  }

  version(stream: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const waits = this.versionWaits.get(stream);
      if (waits) waits.push({ resolve, reject });
      else this.versionWaits.set(stream, [{ resolve, reject }]);
      this.schedule();
    });
  }

  command(commandId: string): Promise<CommandRow | undefined> {
    return new Promise((resolve, reject) => {
      const waits = this.commandWaits.get(commandId);
      if (waits) waits.push({ resolve, reject });
      else this.commandWaits.set(commandId, [{ resolve, reject }]);
      this.schedule();
    });
  }

  stream(stream: string, from: number, limit: number): Promise<StoredEvent[]> {
    return new Promise((resolve, reject) => {
      this.streamWaits.push({ stream, from, limit, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the promise jobs of this turn, which may issue more reads to merge.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const snapshots = this.snapshotWaits;
    const streams = this.streamWaits;
    const commands = this.commandWaits;
    const versions = this.versionWaits;
    this.versionWaits = new Map();
    this.snapshotWaits = new Map();
    this.streamWaits = [];
    this.commandWaits = new Map();
    if (snapshots.size > 0) {
      this.queries.snapshots([...snapshots.keys()]).then(
        (found) => {
          for (const [stream, waits] of snapshots) for (const wait of waits) wait.resolve(found.get(stream));
        },
        (error: unknown) => {
          for (const waits of snapshots.values()) for (const wait of waits) wait.reject(error);
        },
      );
    }
    if (versions.size > 0) {
      this.queries.versions([...versions.keys()]).then(
        (found) => {
          for (const [stream, waits] of versions) for (const wait of waits) wait.resolve(found.get(stream) ?? 0);
        },
        (error: unknown) => {
          for (const waits of versions.values()) for (const wait of waits) wait.reject(error);
        },
      );
    }
    if (commands.size > 0) {
      this.queries.commands([...commands.keys()]).then(
        (found) => {
          for (const [commandId, waits] of commands) for (const wait of waits) wait.resolve(found.get(commandId));
        },
        (error: unknown) => {
          for (const waits of commands.values()) for (const wait of waits) wait.reject(error);
        },
      );
    }
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
