/**
 * Reading and writing the pieces of a WebAssembly binary that the loader rewrites (the binary
 * format spec: https://webassembly.github.io/spec/core/binary/index.html). Only what
 * `memory-limit.ts` and `grow-probe.ts` need: LEB128 numbers, the section list, and
 * re-assembling a module from sections.
 */

/** Thrown on bytes that do not follow the binary format (or use a feature the rewriter skips). */
export class WasmFormatError extends Error {}

/** A cursor over a byte array; every read checks its bounds. */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
    readonly end = bytes.length,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  peek(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end at byte ${this.pos}`);
    return this.bytes[this.pos]!;
  }

  skip(count: number): void {
    if (this.pos + count > this.end) throw new WasmFormatError(`unexpected end at byte ${this.pos}`);
    this.pos += count;
  }

  /** An unsigned LEB128 number (up to 2^53, which covers every u32 and u64 a module holds in practice). */
  uleb(): number {
    let result = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new WasmFormatError(`LEB128 number too long at byte ${this.pos}`);
  }

  /** A signed LEB128 number, skipped (its value is never needed here). */
  skipSleb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new WasmFormatError(`LEB128 number too long at byte ${this.pos}`);
  }

  slice(start: number, end = this.pos): Uint8Array {
    return this.bytes.subarray(start, end);
  }
}

/** An unsigned LEB128 encoding of `value`. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

/** One section: its id and its content (without the id and size). */
export interface Section {
  id: number;
  content: Uint8Array;
}

export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** The order sections must appear in; custom sections may appear anywhere. */
const ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

export function readSections(bytes: Uint8Array): Section[] {
  const r = new ByteReader(bytes, 8);
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new WasmFormatError('not a WebAssembly binary');
  const sections: Section[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const start = r.pos;
    r.skip(size);
    sections.push({ id, content: bytes.subarray(start, start + size) });
  }
  return sections;
}

/** Put `section` where the format wants it: before the first section that must follow it. */
export function insertSection(sections: Section[], section: Section): void {
  const rank = ORDER[section.id]!;
  const at = sections.findIndex((s) => s.id !== SECTION.custom && ORDER[s.id]! > rank);
  sections.splice(at === -1 ? sections.length : at, 0, section);
}

/** A vector section's content: its count, then the entries' bytes. */
export function vectorContent(count: number, entries: readonly (Uint8Array | number[])[]): Uint8Array {
  return concat([uleb(count), ...entries]);
}

export function writeModule(header: Uint8Array, sections: readonly Section[]): Uint8Array {
  return concat([header.subarray(0, 8), ...sections.flatMap((s) => [[s.id, ...uleb(s.content.length)], s.content])]);
}

export function concat(parts: readonly (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
