/**
 * The function signatures of a module's exports and imports, read from its binary.
 *
 * The JS WebAssembly API tells a function's parameter count but not its types, and a JS import
 * accepts any signature. Without this, a module whose `thalo_handle` returns `i32` instead of
 * `i64`, or takes an `i64`, would load and fail only on its first command, in a way that looks
 * like a trap. Reading the type, import, function and export sections (the binary format spec,
 * https://webassembly.github.io/spec/core/binary/modules.html) lets the loader refuse it at once,
 * naming the function and both signatures. The bytes were already compiled, so they are valid.
 */

export interface Signature {
  params: string[];
  results: string[];
}

export interface ModuleSignatures {
  /** Function exports by name. */
  exports: Map<string, Signature>;
  /** Function imports by `module.name`. */
  imports: Map<string, Signature>;
}

const VALUE_TYPES: Record<number, string> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};

/** `(i32, i32) -> i64`, the way docs/abi.md writes signatures. */
export function formatSignature(signature: Signature): string {
  const results =
    signature.results.length === 0 ? '()' : signature.results.length === 1 ? signature.results[0] : `(${signature.results.join(', ')})`;
  return `(${signature.params.join(', ')}) -> ${results}`;
}

export function sameSignature(a: Signature, b: Signature): boolean {
  return a.params.join() === b.params.join() && a.results.join() === b.results.join();
}

export function readSignatures(bytes: Uint8Array): ModuleSignatures {
  let offset = 8; // magic and version
  const byte = () => bytes[offset++]!;
  const uleb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const name = (): string => {
    const length = uleb();
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('utf8');
    offset += length;
    return text;
  };
  const valueTypes = (): string[] => Array.from({ length: uleb() }, () => VALUE_TYPES[byte()] ?? 'unknown');
  const limits = () => {
    const flags = uleb();
    uleb();
    if (flags & 1) uleb();
  };

  const types: Signature[] = [];
  const functionTypes: number[] = []; // type index of every function, imports first
  const imports = new Map<string, Signature>();
  const exports = new Map<string, Signature>();
  while (offset < bytes.length) {
    const id = byte();
    const size = uleb();
    const end = offset + size;
    if (id === 1) {
      for (let n = uleb(); n > 0; n--) {
        byte(); // 0x60, a function type
        types.push({ params: valueTypes(), results: valueTypes() });
      }
    } else if (id === 2) {
      for (let n = uleb(); n > 0; n--) {
        const key = `${name()}.${name()}`;
        const kind = byte();
        if (kind === 0x00) {
          const type = uleb();
          functionTypes.push(type);
          imports.set(key, types[type]!);
        } else if (kind === 0x01) {
          byte();
          limits();
        } else if (kind === 0x02) limits();
        else if (kind === 0x03)
          offset += 2; // value type, mutability
        else if (kind === 0x04) {
          byte();
          uleb(); // a tag: attribute, type index
        }
      }
    } else if (id === 3) {
      for (let n = uleb(); n > 0; n--) functionTypes.push(uleb());
    } else if (id === 7) {
      for (let n = uleb(); n > 0; n--) {
        const key = name();
        const kind = byte();
        const index = uleb();
        if (kind === 0x00) exports.set(key, types[functionTypes[index]!]!);
      }
    }
    offset = end;
  }
  return { exports, imports };
}
