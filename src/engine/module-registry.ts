/**
 * The modules an engine serves: every `<aggregate>.wasm` of the modules directory that passed
 * validation. The main thread loads each module once to validate it and to know what it
 * describes (commands, events), so unknown aggregates and commands fail before reaching a worker.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { loadModule } from '../wasm/index.js';
import type { AggregateModule } from '../wasm/index.js';
import type { ModuleDescription } from '../wasm/types.js';
import type { ModuleRef } from '../protocol/messages.js';

export interface LoadedModule {
  name: string;
  file: string;
  version: number;
  description: ModuleDescription;
  supportsSnapshots: boolean;
  /** Command names, for a quick membership test at the edge. */
  commands: ReadonlySet<string>;
  compiled: WebAssembly.Module;
}

export interface RefusedModule {
  file: string;
  error: unknown;
}

export class ModuleRegistry {
  private readonly modules = new Map<string, LoadedModule>();
  private nextVersion = 1;

  constructor(readonly directory: string) {}

  /** Load every `.wasm` file of the directory; returns the files that were refused. */
  async loadAll(): Promise<RefusedModule[]> {
    const refused: RefusedModule[] = [];
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return refused;
      throw error;
    }
    for (const name of names.filter((n) => extname(n) === '.wasm').sort()) {
      const file = join(this.directory, name);
      try {
        await this.load(file);
      } catch (error) {
        refused.push({ file, error });
      }
    }
    return refused;
  }

  /** Validate and register one file; a previous version of the same aggregate is replaced. */
  async load(file: string): Promise<LoadedModule> {
    const name = basename(file, '.wasm');
    const module: AggregateModule = await loadModule(resolve(file));
    const loaded: LoadedModule = {
      name,
      file: resolve(file),
      version: this.nextVersion++,
      description: module.description,
      supportsSnapshots: module.supportsSnapshots,
      commands: new Set(module.description.commands),
      compiled: module.compiled,
    };
    this.modules.set(name, loaded);
    return loaded;
  }

  /** Stop serving an aggregate; returns whether it was loaded. */
  remove(name: string): boolean {
    return this.modules.delete(name);
  }

  get(name: string): LoadedModule | undefined {
    return this.modules.get(name);
  }

  list(): LoadedModule[] {
    return [...this.modules.values()];
  }

  refs(): ModuleRef[] {
    return this.list().map(({ name, file, version, compiled }) => ({ name, file, version, compiled }));
  }
}
