/**
 * Loading and validating an aggregate module (ABI v1, docs/abi.md). A module that does not
 * follow the ABI is refused at load, with an error naming the file and what is wrong, so that a
 * bad module never reaches a command.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { unpack } from 'msgpackr';
import { ThaloError } from '../errors.js';
import { AggregateInstance } from './aggregate-instance.js';
import { guestImports } from './guest-imports.js';
import type { GuestLogger } from './guest-imports.js';
import { formatSignature, readSignatures, sameSignature } from './module-signatures.js';
import type { Signature } from './module-signatures.js';
import type { ModuleDescription } from './types.js';

export const ABI_VERSION = 1;

/** An aggregate's name, the module file's stem: a letter, then letters, digits or `_` (stream names are `<aggregate>-<id>`). */
export const AGGREGATE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const sig = (params: string[], results: string[]): Signature => ({ params, results });
/** Required function exports and their signatures (docs/abi.md, "Exports"). */
const REQUIRED: Record<string, Signature> = {
  thalo_abi_version: sig([], ['i32']),
  thalo_alloc: sig(['i32'], ['i32']),
  thalo_free: sig(['i32', 'i32'], []),
  thalo_describe: sig([], ['i64']),
  thalo_new: sig(['i32', 'i32'], ['i32']),
  thalo_drop: sig(['i32'], []),
  thalo_apply: sig(['i32', 'i32', 'i32'], ['i32']),
  thalo_handle: sig(['i32', 'i32', 'i32'], ['i64']),
};
/** The optional snapshot pair. */
const SNAPSHOT: Record<string, Signature> = {
  thalo_snapshot: sig(['i32'], ['i64']),
  thalo_restore: sig(['i32', 'i32', 'i32', 'i32'], ['i32']),
};
/** The only imports a module may have. */
const ALLOWED_IMPORTS: Record<string, Signature> = {
  'thalo.log': sig(['i32', 'i32', 'i32'], []),
  'env.abort': sig(['i32', 'i32', 'i32', 'i32'], []),
};

export interface InstanceOptions {
  /** Largest command payload accepted once packed as msgpack, in bytes. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Receives the guest's `thalo.log` lines. Default: dropped. */
  log?: GuestLogger;
}

export class AggregateModule {
  private constructor(
    /** The aggregate's name: the file's stem. */
    readonly name: string,
    readonly file: string,
    readonly compiled: WebAssembly.Module,
    readonly description: ModuleDescription,
    readonly supportsSnapshots: boolean,
  ) {}

  /** Validate compiled bytes against the ABI. `file` names the module in errors. */
  static async fromBytes(bytes: Uint8Array, file: string): Promise<AggregateModule> {
    let compiled: WebAssembly.Module;
    try {
      compiled = await WebAssembly.compile(bytes);
    } catch (error) {
      throw refusal(file, `not a valid WebAssembly module (${(error as Error).message})`, error);
    }
    // Exact signatures need the binary; `fromCompiled` checks the rest.
    const { exports, imports } = readSignatures(bytes);
    const expected: [string, Signature | undefined, Signature][] = [
      ...Object.entries(ALLOWED_IMPORTS).map(([name, want]): [string, Signature | undefined, Signature] => [`the import ${name}`, imports.get(name), want]),
      ...Object.entries({ ...REQUIRED, ...SNAPSHOT }).map(([name, want]): [string, Signature | undefined, Signature] => [name, exports.get(name), want]),
    ];
    for (const [what, actual, want] of expected) {
      if (actual && !sameSignature(actual, want)) {
        throw refusal(file, `${what} has the signature ${formatSignature(actual)}; ABI v1 says ${formatSignature(want)}`);
      }
    }
    return AggregateModule.fromCompiled(compiled, file);
  }

  /**
   * Validate an already compiled module against the ABI. Workers receive modules compiled by
   * the main thread (a `WebAssembly.Module` crosses `postMessage`), so they run exactly what
   * was validated, even if the file changed since.
   */
  static fromCompiled(compiled: WebAssembly.Module, file: string): AggregateModule {
    const refuse = (problem: string, cause?: unknown) => refusal(file, problem, cause);
    const name = basename(file, '.wasm');
    if (!AGGREGATE_NAME.test(name)) throw refuse(`"${name}" is not a valid aggregate name (a letter, then letters, digits or _; at most 64)`);
    for (const imp of WebAssembly.Module.imports(compiled)) {
      const name = `${imp.module}.${imp.name}`;
      if (!(name in ALLOWED_IMPORTS) || imp.kind !== 'function') {
        throw refuse(`imports ${imp.kind} "${name}", but a module may import only the functions thalo.log and env.abort`);
      }
    }
    const exports = new Map(WebAssembly.Module.exports(compiled).map((e) => [e.name, e.kind]));
    if (exports.get('memory') !== 'memory') throw refuse('does not export its memory as "memory"');
    for (const name of Object.keys(REQUIRED)) {
      if (exports.get(name) !== 'function') throw refuse(`does not export the function ${name}`);
    }
    const snapshots = Object.keys(SNAPSHOT).filter((name) => exports.get(name) === 'function');
    if (snapshots.length === 1) throw refuse(`exports ${snapshots[0]} without its pair (export both thalo_snapshot and thalo_restore, or neither)`);

    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(compiled, guestImports(() => instance, file, undefined));
    } catch (error) {
      throw refuse(`failed to instantiate (${(error as Error).message})`, error);
    }
    const fns = instance.exports as Record<string, unknown>;
    for (const [name, want] of Object.entries({ ...REQUIRED, ...(snapshots.length ? SNAPSHOT : {}) })) {
      const length = (fns[name] as (...args: unknown[]) => unknown).length;
      if (length !== want.params.length) throw refuse(`${name} takes ${length} parameters; ABI v1 says ${formatSignature(want)}`);
    }
    let version: unknown;
    try {
      version = (fns.thalo_abi_version as () => unknown)();
    } catch (error) {
      throw refuse(`thalo_abi_version trapped (${(error as Error).message})`, error);
    }
    if (version !== ABI_VERSION) throw refuse(`speaks ABI version ${String(version)}; this runtime supports version ${ABI_VERSION}`);
    const description = describe(instance, refuse);
    return new AggregateModule(name, file, compiled, description, snapshots.length === 2);
  }

  /** A fresh instance, with its own memory. Synchronous: the module is already compiled. */
  instantiate(options: InstanceOptions = {}): AggregateInstance {
    return new AggregateInstance(this, options.maxPayloadBytes ?? 1024 * 1024, options.log);
  }
}

function refusal(file: string, problem: string, cause?: unknown): ThaloError {
  return new ThaloError('MODULE_INVALID', `${file}: ${problem}`, { data: { file }, cause });
}

function describe(instance: WebAssembly.Instance, refuse: (problem: string, cause?: unknown) => ThaloError): ModuleDescription {
  let value: unknown;
  try {
    const packed = (instance.exports.thalo_describe as () => bigint)();
    const ptr = Number(BigInt.asUintN(64, packed) >> 32n);
    const len = Number(BigInt.asUintN(32, packed));
    const memory = instance.exports.memory as WebAssembly.Memory;
    if (ptr + len > memory.buffer.byteLength) throw new Error('its result lies outside memory');
    value = unpack(new Uint8Array(memory.buffer, ptr, len).slice());
  } catch (error) {
    throw refuse(`thalo_describe failed: ${(error as Error).message}`, error);
  }
  const d = value as Partial<ModuleDescription> | null;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (typeof d !== 'object' || d === null || typeof d.name !== 'string' || typeof d.version !== 'string' || !strings(d.commands) || !strings(d.events)) {
    throw refuse('thalo_describe must return a msgpack map {name: str, version: str, commands: [str], events: [str]}');
  }
  return { name: d.name, version: d.version, commands: [...d.commands!], events: [...d.events!] };
}

/** Read, compile and validate a `.wasm` file. */
export async function loadModule(file: string): Promise<AggregateModule> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ThaloError('MODULE_INVALID', `${file}: cannot be read (${(error as Error).message})`, { data: { file }, cause: error });
  }
  return AggregateModule.fromBytes(bytes, file);
}

/** Validate bytes as a module (the file name only names it in errors). */
export function compileModule(bytes: Uint8Array, file: string): Promise<AggregateModule> {
  return AggregateModule.fromBytes(bytes, file);
}
