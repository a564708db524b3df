/**
 * Keeps a cluster node's modules in step with the store's `modules` table.
 *
 * The rule, in cluster mode: the store holds the truth, and a node's modules directory is its
 * copy of it. At start, a module in the store replaces a local file of the same name, and a local
 * module the store lacks is published to it. While running, an upload (`PUT /v1/modules/:name`,
 * `thalo publish`) or a new or changed file in any node's directory is validated there and
 * published as a new revision; every node installs the newest revision within about a second
 * (`intervalMs`). Each poll reads the whole list (names, hashes, revisions; bytes only of what
 * changed), so a node that lost the database catches up with one read when it answers again.
 * A removed file does not remove the module from the cluster: the next poll installs it again.
 */
import type { ModuleTable, StoredModule } from './module-table.js';

/** What the sync needs of the runtime's modules directory (src/server/module-directory.ts). */
export interface ModuleInstaller {
  needs(name: string, revision: StoredModule): boolean;
  install(name: string, bytes: Uint8Array, revision: StoredModule): Promise<void>;
  shareLocal(stored: ReadonlySet<string>): Promise<void>;
}

export interface ModuleSyncOptions {
  table: ModuleTable;
  directory: ModuleInstaller;
  /** How often the store is read. Default 1,000 ms. */
  intervalMs?: number;
  /** A poll failed (the database unreachable, ...); the sync tries again at the next interval. */
  onError?(error: unknown): void;
  /** A poll succeeded after failures. */
  onRecovered?(): void;
}

export class ModuleSync {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly options: ModuleSyncOptions) {}

  /** Install the store's modules, publish the local ones it lacks, then poll. Rejects if the store cannot be read. */
  async start(): Promise<void> {
    const stored = await this.sync();
    await this.options.directory.shareLocal(new Set(stored.map((m) => m.name)));
    this.schedule();
  }

  /** Read the store once and install what changed; resolves when done (for tests and tools). */
  async sync(): Promise<StoredModule[]> {
    const { table, directory } = this.options;
    const stored = await table.list();
    for (const revision of stored) {
      if (!directory.needs(revision.name, revision)) continue;
      const current = await table.read(revision.name);
      if (current !== undefined) await directory.install(current.name, current.bytes, current);
    }
    return stored;
  }

  /** Stop polling; waits for a poll in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.sync().then(
        () => {
          if (this.failing) this.options.onRecovered?.();
          this.failing = false;
        },
        (error: unknown) => {
          if (!this.failing) this.options.onError?.(error);
          this.failing = true;
        },
      );
      void this.polling.then(() => this.schedule());
    }, this.options.intervalMs ?? 1_000);
  }
}
