/**
 * Makes a refused `memory.grow` visible to the host.
 *
 * When a guest's memory reaches its maximum (see memory-limit.ts), `memory.grow` returns -1 and
 * the guest's allocator traps, usually with a bare `unreachable`: nothing in the trap says it was
 * memory. Looking at the memory's size afterwards does not tell either, since one large allocation
 * (say 1 GiB) is refused while the memory is still small. So the loader rewrites each
 * `memory.grow` of memory 0 into a call to one added function that grows the memory and, when
 * the growth is refused, records how many pages were asked for in an added exported global
 * (`GROW_FAILED_EXPORT`). The host reads that global after a trap.
 *
 * Adding a function, a type and a global at the end of their index spaces shifts no existing
 * index, so only the code section's bodies change (each replaced instruction's size). Finding the
 * instructions means decoding every function body; the decoder knows the instructions of
 * WebAssembly 2.0 (with bulk memory, reference types, SIMD and threads). A module using anything
 * else (GC, exceptions) is left as it was: its memory is still capped, but a trap is not told
 * apart from others.
 */
import { ByteReader, SECTION, WasmFormatError, concat, insertSection, uleb, vectorContent } from './wasm-binary.js';
import type { Section } from './wasm-binary.js';

/** The exported global holding the pages the guest last asked for in vain (0: none refused). */
export const GROW_FAILED_EXPORT = '__thalo_memory_grow_failed';

/**
 * `sections` with every `memory.grow` of memory 0 routed through the probe, or `undefined` when
 * there is none, or when the module uses an instruction or type form this decoder does not know.
 */
export function addGrowProbe(sections: readonly Section[]): Section[] | undefined {
  try {
    return instrument(sections);
  } catch (error) {
    if (error instanceof WasmFormatError) return undefined;
    throw error;
  }
}

function instrument(input: readonly Section[]): Section[] | undefined {
  const sections = [...input];
  const find = (id: number) => sections.findIndex((s) => s.id === id);
  const typeAt = find(SECTION.type);
  const functionAt = find(SECTION.function);
  const codeAt = find(SECTION.code);
  const exportAt = find(SECTION.export);
  if (typeAt === -1 || functionAt === -1 || codeAt === -1 || exportAt === -1) throw new WasmFormatError('no functions to instrument');

  const types = countFunctionTypes(sections[typeAt]!.content);
  const imported = countImports(find(SECTION.import) === -1 ? undefined : sections[find(SECTION.import)]!.content);
  const functions = new ByteReader(sections[functionAt]!.content);
  const defined = functions.uleb();
  const probeIndex = imported.functions + defined;
  const globalAt = find(SECTION.global);
  const globals = globalAt === -1 ? 0 : new ByteReader(sections[globalAt]!.content).uleb();
  const globalIndex = imported.globals + globals;
  if (hasExport(sections[exportAt]!.content, GROW_FAILED_EXPORT))
    throw new WasmFormatError(`the module already exports ${GROW_FAILED_EXPORT}`);

  // The code first: a module without any memory.grow is left untouched.
  const code = new ByteReader(sections[codeAt]!.content);
  const bodies: Uint8Array[] = [];
  let grows = 0;
  for (let n = code.uleb(); n > 0; n--) {
    const size = code.uleb();
    const end = code.pos + size;
    const body = rewriteBody(new ByteReader(code.bytes, code.pos, end), probeIndex);
    grows += body.grows;
    bodies.push(concat([uleb(body.bytes.length), body.bytes]));
    code.pos = end;
  }
  if (grows === 0) return undefined;

  // (param i32) (result i32): local 1 = memory.grow(local 0); if it is -1, global = local 0; local 1
  const probe = [
    0x01,
    0x01,
    0x7f,
    0x20,
    0x00,
    0x40,
    0x00,
    0x22,
    0x01,
    0x41,
    0x7f,
    0x46,
    0x04,
    0x40,
    0x20,
    0x00,
    0x24,
    ...uleb(globalIndex),
    0x0b,
    0x20,
    0x01,
    0x0b,
  ];
  bodies.push(concat([uleb(probe.length), probe]));
  sections[codeAt] = { id: SECTION.code, content: vectorContent(bodies.length, bodies) };
  sections[typeAt] = appendEntry(sections[typeAt]!, [0x60, 0x01, 0x7f, 0x01, 0x7f]);
  sections[functionAt] = appendEntry(sections[functionAt]!, uleb(types));
  // A mutable i32 initialised to 0, exported.
  const global = [0x7f, 0x01, 0x41, 0x00, 0x0b];
  if (globalAt === -1) insertSection(sections, { id: SECTION.global, content: vectorContent(1, [global]) });
  else sections[globalAt] = appendEntry(sections[globalAt]!, global);
  const name = Buffer.from(GROW_FAILED_EXPORT, 'utf8');
  const exportIndex = sections.findIndex((s) => s.id === SECTION.export);
  sections[exportIndex] = appendEntry(sections[exportIndex]!, [...uleb(name.length), ...name, 0x03, ...uleb(globalIndex)]);
  return sections;
}

/** A vector section with one more entry. */
function appendEntry(section: Section, entry: number[]): Section {
  const r = new ByteReader(section.content);
  const count = r.uleb();
  return { id: section.id, content: vectorContent(count + 1, [r.slice(r.pos, r.end), entry]) };
}

function countFunctionTypes(content: Uint8Array): number {
  const r = new ByteReader(content);
  const count = r.uleb();
  for (let i = 0; i < count; i++) {
    // A recursive or sub type group (GC) would make the count of types differ from the entries'.
    if (r.byte() !== 0x60) throw new WasmFormatError('a type other than a function type');
    for (let lists = 0; lists < 2; lists++) for (let n = r.uleb(); n > 0; n--) skipValueType(r);
  }
  return count;
}

function countImports(content: Uint8Array | undefined): { functions: number; globals: number } {
  const counts = { functions: 0, globals: 0 };
  if (!content) return counts;
  const r = new ByteReader(content);
  for (let n = r.uleb(); n > 0; n--) {
    r.skip(r.uleb());
    r.skip(r.uleb());
    const kind = r.byte();
    if (kind === 0x00) {
      r.uleb();
      counts.functions++;
    } else if (kind === 0x01) {
      skipValueType(r);
      skipLimits(r);
    } else if (kind === 0x02) skipLimits(r);
    else if (kind === 0x03) {
      skipValueType(r);
      r.byte();
      counts.globals++;
    } else throw new WasmFormatError(`an import of kind ${kind}`);
  }
  return counts;
}

function hasExport(content: Uint8Array, wanted: string): boolean {
  const r = new ByteReader(content);
  for (let n = r.uleb(); n > 0; n--) {
    const length = r.uleb();
    const name = Buffer.from(r.bytes.buffer, r.bytes.byteOffset + r.pos, length).toString('utf8');
    r.skip(length);
    r.byte();
    r.uleb();
    if (name === wanted) return true;
  }
  return false;
}

function skipLimits(r: ByteReader): void {
  const flags = r.byte();
  r.uleb();
  if (flags & 1) r.uleb();
}

/** A value type: one byte, or a reference type with its heap type (`0x63`/`0x64` ht). */
function skipValueType(r: ByteReader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.skipSleb();
}

function skipBlockType(r: ByteReader): void {
  const b = r.peek();
  if (b === 0x63 || b === 0x64) skipValueType(r);
  else if ((b & 0xc0) === 0x40)
    r.pos++; // the empty type or a one-byte value type
  else r.skipSleb(); // a type index
}

function skipMemArg(r: ByteReader): void {
  const align = r.uleb();
  if (align & 0x40) r.uleb(); // multi-memory: a memory index follows
  r.uleb();
}

/** One function body with each `memory.grow 0` replaced by `call probe`. */
function rewriteBody(r: ByteReader, probeIndex: number): { bytes: Uint8Array; grows: number } {
  const start = r.pos;
  for (let n = r.uleb(); n > 0; n--) {
    r.uleb();
    skipValueType(r);
  }
  const parts: Uint8Array[] = [];
  const call = new Uint8Array([0x10, ...uleb(probeIndex)]);
  let copied = start;
  let grows = 0;
  while (r.pos < r.end) {
    const at = r.pos;
    const op = r.byte();
    if (op === 0x40) {
      if (r.uleb() !== 0) continue; // another memory's growth is left alone
      parts.push(r.slice(copied, at), call);
      copied = r.pos;
      grows++;
      continue;
    }
    skipImmediates(r, op);
  }
  if (grows === 0) return { bytes: r.slice(start, r.end), grows };
  parts.push(r.slice(copied, r.end));
  return { bytes: concat(parts), grows };
}

function skipImmediates(r: ByteReader, op: number): void {
  if (
    (op >= 0x45 && op <= 0xc4) ||
    op <= 0x01 ||
    op === 0x05 ||
    op === 0x0b ||
    op === 0x0f ||
    op === 0x1a ||
    op === 0x1b ||
    op === 0xd1 ||
    op === 0xd3 ||
    op === 0xd4
  )
    return;
  if (op >= 0x02 && op <= 0x04) return skipBlockType(r);
  if (
    op === 0x0c ||
    op === 0x0d ||
    op === 0x10 ||
    op === 0x12 ||
    op === 0x14 ||
    op === 0x15 ||
    (op >= 0x20 && op <= 0x26) ||
    op === 0x3f ||
    op === 0xd2 ||
    op === 0xd5 ||
    op === 0xd6
  ) {
    r.uleb();
    return;
  }
  if (op === 0x11 || op === 0x13) {
    r.uleb();
    r.uleb();
    return;
  }
  if (op === 0x0e) {
    for (let n = r.uleb() + 1; n > 0; n--) r.uleb();
    return;
  }
  if (op === 0x1c) {
    for (let n = r.uleb(); n > 0; n--) skipValueType(r);
    return;
  }
  if (op >= 0x28 && op <= 0x3e) return skipMemArg(r);
  if (op === 0x41 || op === 0x42) return r.skipSleb();
  if (op === 0x43) return r.skip(4);
  if (op === 0x44) return r.skip(8);
  if (op === 0xd0) return r.skipSleb(); // ref.null: a heap type
  if (op === 0xfc) return skipMiscImmediates(r, r.uleb());
  if (op === 0xfd) return skipSimdImmediates(r, r.uleb());
  if (op === 0xfe) return skipAtomicImmediates(r, r.uleb());
  throw new WasmFormatError(`instruction 0x${op.toString(16)} at byte ${r.pos - 1}`);
}

/** The 0xfc prefix: saturating truncation, bulk memory, tables. */
function skipMiscImmediates(r: ByteReader, op: number): void {
  if (op <= 7) return;
  if (op === 8 || op === 10 || op === 12 || op === 14) {
    r.uleb();
    r.uleb();
    return;
  }
  if (op === 9 || op === 11 || op === 13 || (op >= 15 && op <= 17)) {
    r.uleb();
    return;
  }
  throw new WasmFormatError(`instruction 0xfc ${op}`);
}

/** The 0xfd prefix: SIMD (and relaxed SIMD, whose instructions have no immediates). */
function skipSimdImmediates(r: ByteReader, op: number): void {
  if (op <= 11 || op === 92 || op === 93) return skipMemArg(r);
  if (op === 12 || op === 13) return r.skip(16);
  if (op >= 21 && op <= 34) return r.skip(1);
  if (op >= 84 && op <= 91) {
    skipMemArg(r);
    r.skip(1);
    return;
  }
  if (op <= 0x113) return;
  throw new WasmFormatError(`instruction 0xfd ${op}`);
}

/** The 0xfe prefix: threads. */
function skipAtomicImmediates(r: ByteReader, op: number): void {
  if (op === 0x03) return r.skip(1);
  if (op <= 0x02 || (op >= 0x10 && op <= 0x4e)) return skipMemArg(r);
  throw new WasmFormatError(`instruction 0xfe ${op}`);
}
