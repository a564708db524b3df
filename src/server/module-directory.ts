/**
 * The runtime's modules directory, kept in step with the engine: a new or changed
 * `<aggregate>.wasm` is validated and then serves new commands, a removed one stops serving, and a
 * bad one is refused with a log line while the previous version keeps serving. Uploads
 * (`PUT /v1/modules/:name`) go through here too, so the file on disk and the module served agree.
 *
 * Changes are found by content, not by event: `fs.watch` reports renames and partial writes in
 * platform-specific ways, so each burst of events (debounced) triggers one rescan that compares
 * every file's SHA-256 with what was last loaded or refused under that name. A copy caught half
 * written is refused, and loaded when the write completes (its content changes again). All module
 * work runs on one chain, so a rescan and an upload never interleave.
 */
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import { deserializeError, serializeError } from '../errors.js';
import { aggregateNameProblem } from '../aggregate-name.js';
import type { SerializedError } from '../errors.js';
import { isMissingFile, readModuleFile } from '../engine/index.js';
import type { Engine, LoadedModule } from '../engine/index.js';
import { ApiError } from './api-errors.js';

export interface ModuleDirectoryOptions {
  engine: Engine;
  directory: string;
  logger: Logger;
  /** Quiet time after the last file event before the directory is rescanned. Default 100 ms. */
  debounceMs?: number;
  /**
   * A cluster's modules kept in the store: every module validated here from an upload or a new
   * file is published there too, and `install` serves what the store holds. Default: none (the
   * directory alone, as on a single node).
   */
  shared?: SharedModules;
}

/** A module's revision in a cluster's store. */
export interface ModuleRevision {
  revision: number;
  sha256: string;
  /** Milliseconds since the epoch. */
  publishedAt: number;
  /** The node that published it. */
  publishedBy: string;
}

/** Where a cluster keeps its modules (src/cluster/module-table.ts). */
export interface SharedModules {
  /** Keep `bytes` as module `name`; resolves with the revision the store holds now. */
  publish(name: string, bytes: Uint8Array, sha256: string): Promise<ModuleRevision>;
}

/** A module file the runtime refused, as the API lists it. */
export interface RefusedFile {
  file: string;
  error: SerializedError;
}

export class ModuleDirectory {
  readonly directory: string;
  private readonly engine: Engine;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  /** Per aggregate name: the hash of the file content last loaded or refused. */
  private readonly seen = new Map<string, string>();
  private readonly refused = new Map<string, RefusedFile>();
  /** Per aggregate name: the hash of the content that serves now. */
  private readonly servedHash = new Map<string, string>();
  /** Per aggregate name: the store's revision last published or installed here (cluster only). */
  private readonly revisions = new Map<string, ModuleRevision>();
  private readonly shared: SharedModules | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: ModuleDirectoryOptions) {
    this.engine = options.engine;
    this.directory = resolve(options.directory);
    this.logger = options.logger;
    this.debounceMs = options.debounceMs ?? 100;
    this.shared = options.shared;
  }

  /** `modules/counter.wasm` as the logs and the API show it: relative to the working directory when inside it. */
  displayPath(file: string): string {
    const shown = relative(process.cwd(), file);
    return shown.startsWith('..') || isAbsolute(shown) ? file : shown;
  }

  /** The file a module is served from. */
  fileOf(name: string): string {
    return join(this.directory, `${name}.wasm`);
  }

  /**
   * Log what the engine loaded and refused at start, remember the files' content, and begin
   * watching. Files that changed between the engine's start and this call are picked up by the
   * first rescan only if they change again; the window is the few milliseconds in between.
   */
  async start(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    for (const module of this.engine.modules()) this.served(module, await hashFile(this.fileOf(module.name)), 'file');
    for (const { file, error } of this.engine.refusedModules) this.refuse(file, error, await hashFile(file));
    this.watcher = watch(this.directory, { persistent: false }, (_event, name) => {
      if (name === null || (typeof name === 'string' && extname(name) === '.wasm' && !name.startsWith('.'))) this.schedule();
    });
    this.watcher.on('error', (error) =>
      this.logger.error({ err: error, directory: this.displayPath(this.directory) }, 'watching the modules directory failed'),
    );
  }

  /** The module files refused and not replaced since. */
  refusedFiles(): RefusedFile[] {
    return [...this.refused.values()];
  }

  /**
   * Validate `bytes` as module `name`, serve it, and store it as `<directory>/<name>.wasm`. The
   * bytes are staged under a hidden directory and loaded from there first, so a module that fails
   * validation never replaces a good file; the rename into place is atomic.
   */
  publish(name: string, bytes: Uint8Array): Promise<LoadedModule> {
    const problem = aggregateNameProblem(name);
    if (problem !== undefined) return Promise.reject(new ApiError('INVALID_ARGUMENT', problem));
    return this.enqueue(async () => {
      const outcome = await this.loadStaged(name, bytes, '.upload-');
      if ('error' in outcome) {
        // The loader names the staged file; the client knows the module by its final name.
        const { code, message, data } = serializeError(outcome.error);
        const shown = message.split(outcome.staged).join(this.displayPath(this.fileOf(name)));
        this.logger.error({ module: name, code, error: shown }, 'refused module upload: the previous version, if any, keeps serving');
        throw new ApiError(code, shown, data);
      }
      const hash = sha256(bytes);
      this.served(outcome.loaded, hash, 'upload');
      // Served here first (validation loads it), then kept in the store; if the store cannot
      // take it, the upload fails and the next poll serves the store's revision again.
      if (this.shared !== undefined) this.revisions.set(name, await this.shared.publish(name, bytes, hash));
      return outcome.loaded;
    });
  }

  /** Stop watching; waits for the module work in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.chain.catch(() => undefined);
  }

  /** Rescan now (the watcher calls this, debounced). Resolves when the rescan is done. */
  rescan(): Promise<void> {
    return this.enqueue(() => this.scan());
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => void this.rescan().catch((error) => this.logger.error({ err: error }, 'rescanning the modules directory failed')),
      this.debounceMs,
    );
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    const names = (await readdir(this.directory)).filter((n) => extname(n) === '.wasm' && !n.startsWith('.')).sort();
    const present = new Set<string>();
    for (const entry of names) {
      const name = basename(entry, '.wasm');
      const file = join(this.directory, entry);
      present.add(name);
      const content = await readContent(file);
      if (content === undefined) continue; // removed since the listing; the next event rescans
      const { hash, error, bytes } = content;
      if (this.seen.get(name) === hash) continue;
      if (error !== undefined || bytes === undefined) {
        this.refuse(file, error, hash);
        continue;
      }
      try {
        this.served(await this.engine.loadModule(file), hash, 'file');
      } catch (error) {
        this.refuse(file, error, hash);
        continue;
      }
      await this.share(name, bytes, hash);
    }
    for (const name of [...this.seen.keys()]) {
      if (present.has(name)) continue;
      this.seen.delete(name);
      this.servedHash.delete(name);
      this.refused.delete(name);
      if (await this.engine.unloadModule(name))
        this.logger.info({ file: this.displayPath(this.fileOf(name)), module: name }, 'unloaded module: its file was removed');
    }
  }

  /** A file that changed in a cluster node's directory is published as if uploaded. */
  private async share(name: string, bytes: Uint8Array, hash: string): Promise<void> {
    if (this.shared === undefined) return;
    try {
      this.revisions.set(name, await this.shared.publish(name, bytes, hash));
    } catch (error) {
      const { code, message } = serializeError(error);
      this.logger.error(
        { module: name, code, error: message },
        "module file changed but could not be kept in the store: the store's revision replaces it once the store answers",
      );
    }
  }

  /** The SHA-256 of the content module `name` serves from, if it serves. */
  hashOf(name: string): string | undefined {
    return this.servedHash.get(name);
  }

  /** The store's revision of module `name` when it is what serves here (cluster only). */
  revisionOf(name: string): ModuleRevision | undefined {
    const revision = this.revisions.get(name);
    return revision !== undefined && revision.sha256 === this.servedHash.get(name) ? revision : undefined;
  }

  /** Whether the store's `revision` of `name` is to be installed here: it is newer, or it does not serve. */
  needs(name: string, revision: ModuleRevision): boolean {
    const known = this.revisions.get(name);
    // Known, as new or newer, and its content is what was last loaded (or refused) here.
    return !(known !== undefined && known.revision >= revision.revision && this.seen.get(name) === known.sha256);
  }

  /**
   * Serve the store's `revision` of module `name` (cluster only): validated like an upload, written
   * to the directory, and not published again. Skipped when a newer revision was published here
   * meanwhile. A refusal is logged once per revision.
   */
  install(name: string, bytes: Uint8Array, revision: ModuleRevision): Promise<void> {
    return this.enqueue(async () => {
      if (!this.needs(name, revision)) return;
      this.revisions.set(name, revision);
      if (this.seen.get(name) === revision.sha256 && this.servedHash.get(name) === revision.sha256) return;
      const outcome = await this.loadStaged(name, bytes, '.install-');
      if ('error' in outcome) {
        // Named by its final file, as an upload's refusal is (and logged once per revision).
        const serialized = serializeError(outcome.error);
        serialized.message = `store revision ${revision.revision}: ${serialized.message.split(outcome.staged).join(this.fileOf(name))}`;
        this.refuse(this.fileOf(name), deserializeError(serialized), revision.sha256);
        return;
      }
      this.served(outcome.loaded, revision.sha256, 'store');
    });
  }

  /** Publish every module serving here that the store lacks (a cluster node's start). */
  shareLocal(stored: ReadonlySet<string>): Promise<void> {
    return this.enqueue(async () => {
      for (const module of this.engine.modules()) {
        if (stored.has(module.name) || this.revisions.has(module.name)) continue;
        const content = await readContent(this.fileOf(module.name));
        if (content?.bytes !== undefined) await this.share(module.name, content.bytes, content.hash);
      }
    });
  }

  /**
   * Stages `bytes` as `<name>.wasm` in a hidden directory (`prefix…`), loads the module from there,
   * and only once it loaded moves the file into place (atomically): a module that fails validation
   * never replaces a good file. A refusal comes back with the staged path its error names.
   */
  private async loadStaged(
    name: string,
    bytes: Uint8Array,
    prefix: string,
  ): Promise<{ loaded: LoadedModule } | { error: unknown; staged: string }> {
    const staging = await mkdtemp(join(this.directory, prefix));
    try {
      const staged = join(staging, `${name}.wasm`);
      await writeFile(staged, bytes);
      let loaded: LoadedModule;
      try {
        loaded = await this.engine.loadModule(staged);
      } catch (error) {
        return { error, staged };
      }
      await rename(staged, this.fileOf(name));
      return { loaded };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** `module` serves now, from content `hash`: remember the content, forget a refusal, say so. */
  private served(module: LoadedModule, hash: string | undefined, source: 'file' | 'upload' | 'store'): void {
    if (hash) {
      this.seen.set(module.name, hash);
      this.servedHash.set(module.name, hash);
    }
    this.refused.delete(module.name);
    const { version, commands } = module.description;
    this.logger.info(
      { file: this.displayPath(this.fileOf(module.name)), module: module.name, version, commands },
      `loaded module from ${source}`,
    );
  }

  private refuse(file: string, error: unknown, hash: string | undefined): void {
    const name = basename(file, '.wasm');
    if (hash) this.seen.set(name, hash);
    // The loader names the file by its absolute path; logs and the API show it as everywhere else.
    const serialized = serializeError(error);
    serialized.message = serialized.message.split(file).join(this.displayPath(file));
    this.refused.set(name, { file: this.displayPath(file), error: serialized });
    const serving = this.engine.modules().some((m) => m.name === name);
    this.logger.error(
      { file: this.displayPath(file), module: name, code: serialized.code, error: serialized.message },
      serving ? 'refused module: the previous version keeps serving' : 'refused module: it does not serve',
    );
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What `file` holds now, as a key that changes when it changes: the SHA-256 of its content, or,
 * for a file that cannot be a module (a FIFO, a device, a directory, one too large: see
 * readModuleFile), the refusal, which is then the key, so it is logged once and not on every
 * rescan. Undefined when the file is gone.
 */
async function readContent(file: string): Promise<{ hash: string; error?: unknown; bytes?: Uint8Array } | undefined> {
  try {
    const bytes = await readModuleFile(file);
    return { hash: sha256(bytes), bytes };
  } catch (error) {
    if (isMissingFile(error)) return undefined;
    return { hash: `unreadable: ${(error as Error).message}`, error };
  }
}

async function hashFile(file: string): Promise<string | undefined> {
  return (await readContent(file))?.hash;
}
