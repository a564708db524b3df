/**
 * What a module may import (docs/abi.md, "Imports"): `thalo.log` and AssemblyScript's
 * `env.abort`, nothing else, so handlers have no clock, no randomness and no I/O.
 */
import type { GuestLog } from './guest-log.js';

/** Receives a guest's `thalo.log` lines. Levels: 0 debug, 1 info, 2 warn, 3 error. */
export type GuestLogger = (level: number, message: string, module: string) => void;

/** Thrown by the host side of `env.abort`, so the guest call unwinds like a trap. */
class GuestAbort extends Error {}

/** The import object for one instance; `instance` is called lazily, once it exists. */
export function guestImports(instance: () => WebAssembly.Instance, log: GuestLog): WebAssembly.Imports {
  const memory = () => new Uint8Array((instance().exports.memory as WebAssembly.Memory).buffer);
  const asString = (ptr: number): string => {
    // AssemblyScript strings are UTF-16 with their byte length stored 4 bytes before them.
    const bytes = memory();
    if (ptr < 4 || ptr > bytes.length) return '';
    const len = new DataView(bytes.buffer).getUint32(ptr - 4, true);
    return Buffer.from(bytes.buffer, ptr, Math.min(len, bytes.length - ptr)).toString('utf16le');
  };
  return {
    thalo: {
      log: (level: number, ptr: number, len: number) => log.write(level, memory, ptr, len),
    },
    env: {
      abort: (msg: number, source: number, line: number, column: number) => {
        throw new GuestAbort(`abort: ${asString(msg)} at ${asString(source)}:${line}:${column}`);
      },
    },
  };
}
