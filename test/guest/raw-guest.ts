/**
 * A guest module driven through raw WebAssembly, without the host wrapper of src/wasm: the guest
 * SDK's side of the ABI tested on its own, byte for byte.
 *
 *   const guest = await RawGuest.load(file);
 *   const handle = guest.create('c');
 *   guest.handle(handle, bytes(0x92, 'Increment', ...));   // the result's bytes
 */
import { readFile } from 'node:fs/promises';

interface GuestExports {
  memory: WebAssembly.Memory;
  thalo_abi_version(): number;
  thalo_alloc(len: number): number;
  thalo_free(ptr: number, len: number): void;
  thalo_describe(): bigint;
  thalo_new(idPtr: number, idLen: number): number;
  thalo_drop(handle: number): void;
  thalo_apply(handle: number, ptr: number, len: number): number;
  thalo_handle(handle: number, ptr: number, len: number): bigint;
  thalo_snapshot(handle: number): bigint;
  thalo_restore(idPtr: number, idLen: number, ptr: number, len: number): number;
  [probe: string]: unknown;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * Bytes from numbers (single bytes) and strings (a msgpack fixstr: header then UTF-8), so that
 * tests can write exact encodings: `bytes(0x92, 'Increment', 0xde, 0, 1, 'amount', 5)`.
 */
export function bytes(...parts: (number | string | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else if (typeof part === 'string') {
      const encoded = utf8.encode(part);
      if (encoded.length > 31) throw new Error(`bytes(): "${part}" is too long for a fixstr`);
      out.push(0xa0 | encoded.length, ...encoded);
    } else out.push(...part);
  }
  return Uint8Array.from(out);
}

export class RawGuest {
  /** The lines the module logged through thalo.log, as [level, text]. */
  readonly logs: [number, string][] = [];
  readonly exports: GuestExports;
  private region = 0;
  private regionSize = 0;

  private constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {
      env: {
        abort: () => {
          throw new Error('abort');
        },
      },
      thalo: {
        log: (level: number, ptr: number, len: number) => this.logs.push([level, text.decode(this.memory().subarray(ptr, ptr + len))]),
      },
    });
    this.exports = instance.exports as unknown as GuestExports;
  }

  static async load(file: string): Promise<RawGuest> {
    return new RawGuest(new WebAssembly.Module(await readFile(file)));
  }

  /** A fresh instance of the same module. */
  static fromModule(module: WebAssembly.Module): RawGuest {
    return new RawGuest(module);
  }

  memory(): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer);
  }

  /** Write `input` into the host's one region, growing it as the v1 host does; returns its address. */
  input(input: Uint8Array): number {
    if (input.length > this.regionSize) {
      if (this.region !== 0) this.exports.thalo_free(this.region, this.regionSize);
      this.regionSize = Math.max(input.length, 1024);
      this.region = this.exports.thalo_alloc(this.regionSize);
      if (this.region === 0) throw new Error(`thalo_alloc(${this.regionSize}) returned 0`);
    }
    this.memory().set(input, this.region);
    return this.region;
  }

  /** Copy out the bytes of a packed (ptr << 32 | len) result. */
  output(packed: bigint): Uint8Array {
    const ptr = Number(BigInt.asUintN(64, packed) >> 32n);
    const len = Number(BigInt.asUintN(32, packed));
    return this.memory().slice(ptr, ptr + len);
  }

  describe(): Uint8Array {
    return this.output(this.exports.thalo_describe());
  }

  create(id: string): number {
    const encoded = utf8.encode(id);
    return this.exports.thalo_new(this.input(encoded), encoded.length);
  }

  handle(handle: number, command: Uint8Array): Uint8Array {
    return this.output(this.exports.thalo_handle(handle, this.input(command), command.length));
  }

  apply(handle: number, events: Uint8Array): number {
    return this.exports.thalo_apply(handle, this.input(events), events.length);
  }

  snapshot(handle: number): Uint8Array {
    return this.output(this.exports.thalo_snapshot(handle));
  }

  restore(id: string, snapshot: Uint8Array): number {
    const encoded = utf8.encode(id);
    const ptr = this.input(new Uint8Array([...encoded, ...snapshot]));
    return this.exports.thalo_restore(ptr, encoded.length, ptr + encoded.length, snapshot.length);
  }

  drop(handle: number): void {
    this.exports.thalo_drop(handle);
  }
}
