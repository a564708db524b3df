/**
 * The checks of ABI v1 (docs/abi.md) that need no guest code to run: the imports and exports a
 * module has, with their exact signatures, and the shape of the description it returns. The
 * checks that do run guest code (the start function, `thalo_abi_version`, `thalo_describe`) run
 * on a thread of their own: see module-probe.ts.
 */
import { unpack } from 'msgpackr';
import { formatSignature, readSignatures, sameSignature } from './module-signatures.js';
import type { Signature } from './module-signatures.js';
import type { ModuleDescription } from './types.js';

export const ABI_VERSION = 1;

/** Builds the `MODULE_INVALID` error for one module file from a problem. */
export type Refuse = (problem: string, cause?: unknown) => Error;

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

/**
 * Check the imports and exports of `compiled` (compiled from `bytes`); returns whether it
 * exports the snapshot pair. Signatures are read from the binary: the JS API tells a function's
 * parameter count, but neither its types nor its results.
 */
export function checkImportsAndExports(bytes: Uint8Array, compiled: WebAssembly.Module, refuse: Refuse): { supportsSnapshots: boolean } {
  const signatures = readSignatures(bytes);
  const expected: [string, Signature | undefined, Signature][] = [
    ...Object.entries(ALLOWED_IMPORTS).map(([name, want]): [string, Signature | undefined, Signature] => [
      `the import ${name}`,
      signatures.imports.get(name),
      want,
    ]),
    ...Object.entries({ ...REQUIRED, ...SNAPSHOT }).map(([name, want]): [string, Signature | undefined, Signature] => [
      name,
      signatures.exports.get(name),
      want,
    ]),
  ];
  for (const [what, actual, want] of expected) {
    if (actual && !sameSignature(actual, want)) {
      throw refuse(`${what} has the signature ${formatSignature(actual)}; ABI v1 says ${formatSignature(want)}`);
    }
  }
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
  if (snapshots.length === 1)
    throw refuse(`exports ${snapshots[0]} without its pair (export both thalo_snapshot and thalo_restore, or neither)`);
  return { supportsSnapshots: snapshots.length === 2 };
}

/** The description from the msgpack bytes `thalo_describe` returned. */
export function readDescription(bytes: Uint8Array, refuse: Refuse): ModuleDescription {
  let value: unknown;
  try {
    value = unpack(bytes);
  } catch (error) {
    throw refuse(`thalo_describe failed: ${(error as Error).message}`, error);
  }
  const d = value as Partial<ModuleDescription> | null;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.name !== 'string' ||
    typeof d.version !== 'string' ||
    !strings(d.commands) ||
    !strings(d.events)
  ) {
    throw refuse('thalo_describe must return a msgpack map {name: str, version: str, commands: [str], events: [str]}');
  }
  return { name: d.name, version: d.version, commands: [...d.commands!], events: [...d.events!] };
}
