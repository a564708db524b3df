/**
 * The cap on a guest's memory.
 *
 * A guest's linear memory never shrinks, and without a declared maximum it may grow to 4 GiB:
 * three commands that each touched 1 GiB left the runtime at 3.2 GB, for good. V8 enforces a
 * memory's declared maximum on every `memory.grow`, so the loader rewrites the memory section
 * before compiling: each memory's maximum becomes at most the cap, and a module whose initial
 * size is already over it is refused. A growth past the cap then returns -1 to the guest, whose
 * allocator traps; the host fails the command and replaces the instance, which frees its memory.
 * The added grow probe (grow-probe.ts) tells that trap apart from others.
 */
import { addGrowProbe } from './grow-probe.js';
import { ByteReader, SECTION, readSections, uleb, vectorContent, writeModule } from './wasm-binary.js';
import type { Section } from './wasm-binary.js';
import type { MemoryLimit } from './types.js';

export const PAGE_BYTES = 65536;

export interface LimitedModule {
  /** The binary with its memory capped (and, where the decoder could, its growth probed). */
  bytes: Uint8Array;
  limit: MemoryLimit;
  /** True when `memory.grow` reports refused growth through the probe global. */
  probed: boolean;
}

/** A module whose memory cannot be capped; the message says why. */
export class MemoryLimitError extends Error {}

/**
 * Cap the memories of `bytes` (a module that compiled) at `maxBytes`. `probe: false` leaves the
 * code as it is (the fallback, should a probed binary ever fail to compile).
 */
export function limitMemory(bytes: Uint8Array, maxBytes: number, options: { probe?: boolean } = {}): LimitedModule {
  const sections = readSections(bytes);
  const capPages = Math.floor(maxBytes / PAGE_BYTES);
  const at = sections.findIndex((s) => s.id === SECTION.memory);
  let limit: MemoryLimit = { bytes: capPages * PAGE_BYTES, setBy: 'runtime' };
  if (at !== -1) {
    const capped = capMemories(sections[at]!, capPages);
    sections[at] = capped.section;
    limit = capped.limit;
  }
  const probed = options.probe === false ? undefined : addGrowProbe(sections);
  return { bytes: writeModule(bytes, probed ?? sections), limit, probed: probed !== undefined };
}

/** The memory section with every maximum at most `capPages`; the limit of memory 0. */
function capMemories(section: Section, capPages: number): { section: Section; limit: MemoryLimit } {
  const r = new ByteReader(section.content);
  const count = r.uleb();
  const entries: number[][] = [];
  let first: MemoryLimit | undefined;
  for (let i = 0; i < count; i++) {
    const flags = r.byte();
    const min = r.uleb();
    const max = flags & 1 ? r.uleb() : undefined;
    if (min > capPages) {
      throw new MemoryLimitError(
        `its memory starts at ${min} pages (${formatBytes(min * PAGE_BYTES)}), more than the runtime's cap on guest memory, ${formatBytes(capPages * PAGE_BYTES)}`,
      );
    }
    const limited = max === undefined || max > capPages ? capPages : max;
    first ??= { bytes: limited * PAGE_BYTES, setBy: limited === capPages && (max === undefined || max > capPages) ? 'runtime' : 'module' };
    // Bit 0 says a maximum follows; the others (shared, 64-bit) are kept as they were.
    entries.push([flags | 1, ...uleb(min), ...uleb(limited)]);
  }
  return {
    section: { id: SECTION.memory, content: vectorContent(count, entries) },
    limit: first ?? { bytes: capPages * PAGE_BYTES, setBy: 'runtime' },
  };
}

/** `16 MiB`, `1.5 GiB`, `300 KiB`, `12 bytes`: how limits read in messages. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}
