/**
 * Loading and validating an aggregate module (ABI v1, docs/abi.md). A module that does not
 * follow the ABI is refused at load, with an error naming the file and what is wrong, so that a
 * bad module never reaches a command.
 */
import { basename } from 'node:path';
import { ThaloError } from '../errors.js';
import { DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENTS_PER_COMMAND } from '../limits.js';
import { AggregateInstance } from './aggregate-instance.js';
import type { GuestLogger } from './guest-imports.js';
import { MemoryLimitError, limitMemory } from './memory-limit.js';
import type { LimitedModule } from './memory-limit.js';
import { ABI_VERSION, checkImportsAndExports, readDescription } from './module-abi.js';
import type { Refuse } from './module-abi.js';
import { MAX_MODULE_BYTES, readModuleFile } from './module-file.js';
import { probeModule } from './module-probe.js';
import { aggregateNameProblem } from '../aggregate-name.js';
import type { MemoryLimit, ModuleDescription, ModuleFacts } from './types.js';

export { ABI_VERSION } from './module-abi.js';

/** What loading a module may cost; each limit protects the runtime from one kind of module. */
export interface ModuleLimits {
  /** How long the start function, `thalo_abi_version` and `thalo_describe` may run at load, in ms. Default 2,000. */
  validationTimeoutMs?: number;
  /** The most bytes an instance's memory may reach (rounded down to 64 KiB pages). Default 256 MiB. */
  maxMemoryBytes?: number;
  /** The largest module file `loadModule` reads. Default 64 MiB (`MAX_MODULE_BYTES`). */
  maxFileBytes?: number;
}

export const DEFAULT_VALIDATION_TIMEOUT_MS = 2_000;
export const DEFAULT_MAX_GUEST_MEMORY_BYTES = 256 * 1024 * 1024;

export interface InstanceOptions {
  /** Largest command payload accepted once packed as msgpack, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Events one command may return (`TOO_MANY_EVENTS` past it). Default 1,000. */
  maxEventsPerCommand?: number;
  /** Bytes of one returned event's data (`EVENT_TOO_LARGE` past it). Default 1 MiB. */
  maxEventBytes?: number;
  /** Receives the guest's `thalo.log` lines. Default: dropped. */
  log?: GuestLogger;
}

export class AggregateModule {
  private constructor(
    /** The aggregate's name: the file's stem. */
    readonly name: string,
    readonly file: string,
    /** The module as instances run it: its memory capped, its growth probed (memory-limit.ts). */
    readonly compiled: WebAssembly.Module,
    /** What validation learned, all a worker needs to serve the module without validating it again. */
    readonly facts: ModuleFacts,
  ) {}

  get description(): ModuleDescription {
    return this.facts.description;
  }

  get supportsSnapshots(): boolean {
    return this.facts.supportsSnapshots;
  }

  /**
   * Validate bytes against the ABI. `file` names the module in errors. The guest code this runs
   * (start function, `thalo_abi_version`, `thalo_describe`) runs on a thread of its own, stopped
   * after `limits.validationTimeoutMs` (module-probe.ts).
   */
  static async fromBytes(bytes: Uint8Array, file: string, limits: ModuleLimits = {}): Promise<AggregateModule> {
    const refuse = (problem: string, cause?: unknown) => refusal(file, problem, cause);
    const name = basename(file, '.wasm');
    const problem = aggregateNameProblem(name);
    if (problem !== undefined) throw refuse(problem);
    let original: WebAssembly.Module;
    try {
      original = await WebAssembly.compile(bytes);
    } catch (error) {
      throw refuse(`not a valid WebAssembly module (${(error as Error).message})`, error);
    }
    const { supportsSnapshots } = checkImportsAndExports(bytes, original, refuse);
    const { compiled, limit, probed } = await compileLimited(bytes, limits.maxMemoryBytes ?? DEFAULT_MAX_GUEST_MEMORY_BYTES, refuse);

    const timeoutMs = limits.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;
    const outcome = await probeModule(compiled, timeoutMs, ABI_VERSION);
    if (!outcome.ok) {
      if (outcome.timedOut) throw refuse(`${outcome.step} did not return within ${timeoutMs} ms`);
      if (outcome.step === 'the start function') throw refuse(`failed to instantiate (${outcome.message})`);
      if (outcome.step === 'thalo_abi_version') throw refuse(`thalo_abi_version trapped (${outcome.message})`);
      throw refuse(`thalo_describe failed: ${outcome.message}`);
    }
    if (outcome.version !== ABI_VERSION)
      throw refuse(`speaks ABI version ${String(outcome.version)}; this runtime supports version ${ABI_VERSION}`);
    const description = readDescription(outcome.description ?? new Uint8Array(0), refuse);
    return new AggregateModule(name, file, compiled, { description, supportsSnapshots, memoryLimit: limit, growProbed: probed });
  }

  /**
   * A module the main thread validated (`fromBytes`), as a worker receives it: a
   * `WebAssembly.Module` crosses `postMessage`, so workers run exactly what was validated, even
   * if the file changed since, and run none of its code before their first instance.
   */
  static fromValidated(compiled: WebAssembly.Module, file: string, facts: ModuleFacts): AggregateModule {
    return new AggregateModule(basename(file, '.wasm'), file, compiled, facts);
  }

  /** A fresh instance, with its own memory. Synchronous: the module is already compiled. */
  instantiate(options: InstanceOptions = {}): AggregateInstance {
    const limits = {
      maxEvents: options.maxEventsPerCommand ?? DEFAULT_MAX_EVENTS_PER_COMMAND,
      maxEventBytes: options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
    };
    return new AggregateInstance(this, options.maxPayloadBytes ?? 1024 * 1024, options.log, limits);
  }
}

function refusal(file: string, problem: string, cause?: unknown): ThaloError {
  return new ThaloError('MODULE_INVALID', `${file}: ${problem}`, { data: { file }, cause });
}

/** `bytes` with its memory capped, compiled; without the grow probe should the probed binary not compile. */
async function compileLimited(
  bytes: Uint8Array,
  maxMemoryBytes: number,
  refuse: Refuse,
): Promise<{ compiled: WebAssembly.Module; limit: MemoryLimit; probed: boolean }> {
  let limited: LimitedModule;
  try {
    limited = limitMemory(bytes, maxMemoryBytes);
  } catch (error) {
    throw refuse(error instanceof MemoryLimitError ? error.message : `its memory cannot be capped (${(error as Error).message})`, error);
  }
  try {
    return { compiled: await WebAssembly.compile(limited.bytes), limit: limited.limit, probed: limited.probed };
  } catch (error) {
    if (!limited.probed) throw refuse(`its memory cannot be capped (${(error as Error).message})`, error);
  }
  // The probe's rewrite failed to compile (a decoder gap): cap the memory alone.
  const plain = limitMemory(bytes, maxMemoryBytes, { probe: false });
  try {
    return { compiled: await WebAssembly.compile(plain.bytes), limit: plain.limit, probed: false };
  } catch (error) {
    throw refuse(`its memory cannot be capped (${(error as Error).message})`, error);
  }
}

/** Read, compile and validate a `.wasm` file, which must be a regular file (module-file.ts). */
export async function loadModule(file: string, limits: ModuleLimits = {}): Promise<AggregateModule> {
  const bytes = await readModuleFile(file, limits.maxFileBytes ?? MAX_MODULE_BYTES);
  return AggregateModule.fromBytes(bytes, file, limits);
}

/** Validate bytes as a module (the file name only names it in errors). */
export function compileModule(bytes: Uint8Array, file: string, limits: ModuleLimits = {}): Promise<AggregateModule> {
  return AggregateModule.fromBytes(bytes, file, limits);
}
