/**
 * The modules an engine serves: every `<aggregate>.wasm` of the modules directory that passed
 * validation. The main thread loads each module once to validate it and to know what it
 * describes (commands, events), so unknown aggregates and commands fail before reaching a worker.
 * Validation runs the module's code on a thread of its own, with a deadline (src/wasm/module-probe.ts),
 * and reads only regular files (src/wasm/module-file.ts), so no module file can stall the runtime.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { ThaloError } from '../errors.js';
import { MAX_EVENT_TYPE_BYTES, describeNameProblem } from '../store/index.js';
import { loadModule } from '../wasm/index.js';
import type { AggregateModule, ModuleLimits } from '../wasm/index.js';
import type { ModuleDescription, ModuleFacts } from '../wasm/types.js';
import type { ModuleRef } from '../protocol/messages.js';

/** Module files validated at once by `loadAll`. */
const LOAD_CONCURRENCY = 4;

export interface LoadedModule {
  name: string;
  file: string;
  version: number;
  description: ModuleDescription;
  supportsSnapshots: boolean;
  /** Command names, for a quick membership test at the edge. */
  commands: ReadonlySet<string>;
  compiled: WebAssembly.Module;
  facts: ModuleFacts;
}

export interface RefusedModule {
  file: string;
  error: unknown;
}

export class ModuleRegistry {
  private readonly modules = new Map<string, LoadedModule>();
  private nextVersion = 1;

  constructor(
    readonly directory: string,
    /** Deadline of the guest code run at load, memory cap, largest file. */
    private readonly limits: ModuleLimits = {},
  ) {}

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
    // Validated a few at a time (each on a thread of its own, which takes ~20 ms to start), then
    // registered in name order.
    const files = names
      .filter((n) => extname(n) === '.wasm')
      .sort()
      .map((name) => join(this.directory, name));
    const outcomes = new Array<PromiseSettledResult<AggregateModule>>(files.length);
    let next = 0;
    const validator = async () => {
      for (let i = next++; i < files.length; i = next++) {
        outcomes[i] = await this.validate(files[i]!).then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, files.length) }, validator));
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') this.register(files[i]!, outcome.value);
      else refused.push({ file: files[i]!, error: outcome.reason });
    });
    return refused;
  }

  /** Validate and register one file; a previous version of the same aggregate is replaced. */
  async load(file: string): Promise<LoadedModule> {
    return this.register(file, await this.validate(file));
  }

  private async validate(file: string): Promise<AggregateModule> {
    const module = await loadModule(resolve(file), this.limits);
    checkNames(module);
    return module;
  }

  private register(file: string, module: AggregateModule): LoadedModule {
    const name = basename(file, '.wasm');
    const loaded: LoadedModule = {
      name,
      file: resolve(file),
      version: this.nextVersion++,
      description: module.description,
      supportsSnapshots: module.supportsSnapshots,
      commands: new Set(module.description.commands),
      compiled: module.compiled,
      facts: module.facts,
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
    return this.list().map(({ name, file, version, compiled, facts }) => ({ name, file, version, compiled, facts }));
  }
}

/**
 * Refuse a module that describes a name the store would refuse: it would load, and then every
 * command emitting that event would fail. Event types follow the store's rule for them; command
 * names the same rule (they travel in URLs and logs, where control characters do harm too).
 */
function checkNames(module: AggregateModule): void {
  const { events, commands } = module.description;
  const lists: [string, string[]][] = [
    ['event type', events],
    ['command name', commands],
  ];
  for (const [label, names] of lists) {
    for (const name of names) {
      const problem = describeNameProblem(name, label, MAX_EVENT_TYPE_BYTES);
      if (problem !== undefined) {
        throw new ThaloError('MODULE_INVALID', `${module.file}: thalo_describe lists a name the store refuses: ${problem}`, {
          data: { file: module.file, name },
        });
      }
    }
  }
}
