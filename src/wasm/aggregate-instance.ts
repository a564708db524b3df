/**
 * One instance of an aggregate module, and the typed wrapper around its ABI calls.
 *
 * Bytes cross the boundary by copy. Inputs go into one region the instance asks the guest for
 * (`thalo_alloc`) and keeps across calls, growing it (free, then alloc) only when an input does
 * not fit, so a command costs no allocation calls. Outputs are read in place and copied out
 * before the next call, since they are only valid until then. The memory view is re-created
 * after the guest's memory grew, since growing detaches the old `ArrayBuffer`.
 *
 * Faults are typed (docs/abi.md, "What the host does"):
 * - `GUEST_TRAP`: a guest call threw (a trap, `env.abort`, a stack overflow). The instance's
 *   memory may be inconsistent, so the instance marks itself `poisoned` and refuses every later
 *   call; the caller replaces it with `module.instantiate()` and rebuilds its states.
 * - `GUEST_MEMORY_EXCEEDED`: a trap after the guest's memory limit refused a `memory.grow`
 *   (memory-limit.ts). Poisoned like any trap; replacing the instance gives its memory back.
 * - `GUEST_FAULT`: a call returned something the ABI does not allow (a result out of bounds or
 *   malformed, an undeclared event type, a failing `thalo_apply` status). The instance stays
 *   usable, but the state concerned must be dropped and rebuilt.
 */
import { ThaloError } from '../errors.js';
import type { AggregateModule } from './aggregate-module.js';
import { guestImports } from './guest-imports.js';
import type { GuestLogger } from './guest-imports.js';
import { GuestLog } from './guest-log.js';
import { GROW_FAILED_EXPORT } from './grow-probe.js';
import { PAGE_BYTES, formatBytes } from './memory-limit.js';
import { FrameReader, arrayHeaderSize, encodeString, writeArrayHeader } from './msgpack-frames.js';
import { NameTable } from './name-table.js';
import { PayloadEncoder } from './payload-encoder.js';
import { readResult } from './result-reader.js';
import type { ResultLimits } from './result-reader.js';
import type { AggregateHandle, GuestEvent, HandleOutcome } from './types.js';

interface Exports {
  memory: WebAssembly.Memory;
  thalo_alloc(len: number): number;
  thalo_free(ptr: number, len: number): void;
  thalo_new(idPtr: number, idLen: number): number;
  thalo_drop(handle: number): void;
  thalo_apply(handle: number, ptr: number, len: number): number;
  thalo_handle(handle: number, ptr: number, len: number): bigint;
  thalo_snapshot?(handle: number): bigint;
  thalo_restore?(idPtr: number, idLen: number, ptr: number, len: number): number;
}

// Integers as msgpack integers, `undefined` properties dropped (payload-encoder.ts). One per
// thread: its bytes are copied into the guest before the next command is encoded.
const payloads = new PayloadEncoder();
const EMPTY = new Uint8Array(0);
/** The smallest input region asked for: most commands and event batches fit in it. */
const MIN_REGION = 4096;

/** msgpack strings of event types no module declares (old events a module still applies). */
const undeclaredTypes = new Map<string, Uint8Array>();
function encodeUndeclared(type: string): Uint8Array {
  let encoded = undeclaredTypes.get(type);
  if (!encoded) {
    encoded = encodeString(type);
    if (undeclaredTypes.size < 10_000) undeclaredTypes.set(type, encoded);
  }
  return encoded;
}

export class AggregateInstance {
  private readonly exports: Exports;
  private readonly commands: NameTable;
  private readonly events: NameTable;
  private readonly reader = new FrameReader(EMPTY, 0, 0);
  /** Scratch for `apply`: the encoded type of each event (reused, never shrunk). */
  private readonly types: Uint8Array[] = [];
  private view: Uint8Array;
  private region = 0;
  private regionSize = 0;
  private isPoisoned = false;
  /** The guest's log lines, limited per call; its last error-level line is quoted in faults. */
  private readonly guestLog: GuestLog;
  /** Pages the guest last asked for in vain (grow-probe.ts), when the module is probed. */
  private readonly growFailed: WebAssembly.Global | undefined;
  // Where the last packed result lies, set by `output` (a tuple would allocate per call).
  private outStart = 0;
  private outEnd = 0;

  constructor(
    readonly module: AggregateModule,
    private readonly maxPayloadBytes: number,
    log: GuestLogger | undefined,
    private readonly limits: ResultLimits,
  ) {
    this.guestLog = new GuestLog(log, module.file);
    // The imports reach the instance lazily: they run only once it exists.
    const instance: WebAssembly.Instance = new WebAssembly.Instance(
      module.compiled,
      guestImports(() => instance, this.guestLog),
    );
    this.exports = instance.exports as unknown as Exports;
    this.growFailed = module.facts.growProbed ? (instance.exports[GROW_FAILED_EXPORT] as WebAssembly.Global) : undefined;
    this.commands = new NameTable(module.description.commands);
    this.events = new NameTable(module.description.events);
    this.view = new Uint8Array(this.exports.memory.buffer);
  }

  /** True after a trap: every later call fails; replace the instance with `module.instantiate()`. */
  get poisoned(): boolean {
    return this.isPoisoned;
  }

  /** Bytes of guest memory (linear memory never shrinks; it grows by 64 KiB pages). */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** A fresh state for aggregate `id` (`thalo_new`). */
  create(id: string): AggregateHandle {
    const idBytes = encodeId(id);
    const ptr = this.input(idBytes.length);
    this.memory().set(idBytes, ptr);
    let handle: number;
    try {
      handle = this.exports.thalo_new(ptr, idBytes.length);
    } catch (error) {
      throw this.trapped('thalo_new', error);
    } finally {
      this.guestLog.end();
    }
    if (!(handle > 0)) throw this.fault('thalo_new', `returned handle ${handle} for id ${JSON.stringify(id)}`);
    return handle;
  }

  /** Forget a state; its handle is invalid afterwards. */
  drop(handle: AggregateHandle): void {
    this.usable();
    try {
      this.exports.thalo_drop(handle);
    } catch (error) {
      throw this.trapped('thalo_drop', error);
    } finally {
      this.guestLog.end();
    }
  }

  /** Apply stored events to a state. Event data is handed over exactly as stored. */
  apply(handle: AggregateHandle, events: readonly GuestEvent[]): void {
    const count = events.length;
    if (count === 0) return;
    const types = this.types;
    let size = arrayHeaderSize(count);
    for (let i = 0; i < count; i++) {
      const event = events[i]!;
      const type = this.events.encode(event.type) ?? encodeUndeclared(event.type);
      types[i] = type;
      size += 1 + type.length + event.data.length;
    }
    const ptr = this.input(size);
    const view = this.memory();
    let offset = writeArrayHeader(view, ptr, count);
    for (let i = 0; i < count; i++) {
      const type = types[i]!;
      const data = events[i]!.data;
      view[offset++] = 0x92;
      view.set(type, offset);
      offset += type.length;
      view.set(data, offset);
      offset += data.length;
    }
    let status: number;
    try {
      status = this.exports.thalo_apply(handle, ptr, size);
    } catch (error) {
      throw this.trapped('thalo_apply', error);
    } finally {
      this.guestLog.end();
    }
    if (status !== 0) throw this.fault('thalo_apply', `returned status ${status}`);
  }

  /**
   * Decide on a command. `payload` is a JSON-compatible value, packed with msgpack. Returns the
   * events (data as the guest's msgpack bytes) or the aggregate's rejection.
   */
  handle(handle: AggregateHandle, command: string, payload: unknown): HandleOutcome {
    const name = this.commands.encode(command);
    if (name === undefined) {
      throw new ThaloError(
        'UNKNOWN_COMMAND',
        `${this.module.name} has no command ${JSON.stringify(command)} (it has: ${this.module.description.commands.join(', ')})`,
        {
          data: { aggregate: this.module.name, command },
        },
      );
    }
    let body: Uint8Array;
    try {
      body = payloads.encode(payload);
    } catch (error) {
      throw new ThaloError(
        'INVALID_PAYLOAD',
        `${this.module.name} ${command}: the payload cannot be encoded (${(error as Error).message})`,
        { cause: error },
      );
    }
    if (body.length > this.maxPayloadBytes) {
      throw new ThaloError(
        'PAYLOAD_TOO_LARGE',
        `${this.module.name} ${command}: the payload takes ${body.length} bytes; the limit is ${this.maxPayloadBytes}`,
        {
          data: { size: body.length, limit: this.maxPayloadBytes },
        },
      );
    }
    // The command [name, payload]: an array header, the name (encoded once), the packed payload.
    const length = 1 + name.length + body.length;
    const ptr = this.input(length);
    const view = this.memory();
    view[ptr] = 0x92;
    view.set(name, ptr + 1);
    view.set(body, ptr + 1 + name.length);
    let packed: bigint;
    try {
      packed = this.exports.thalo_handle(handle, ptr, length);
    } catch (error) {
      throw this.trapped('thalo_handle', error, command);
    } finally {
      this.guestLog.end();
    }
    this.output('thalo_handle', packed, command);
    try {
      return readResult(this.reader.reset(this.memory(), this.outStart, this.outEnd), this.events, this.limits, command);
    } catch (error) {
      // Over a limit: the guest answered well-formed bytes, refused as they are.
      if (error instanceof ThaloError) throw error;
      throw this.fault('thalo_handle', `returned a malformed result: ${(error as Error).message}`, command);
    }
  }

  /** The state's snapshot bytes (`thalo_snapshot`); throws when the module has no snapshots. */
  snapshot(handle: AggregateHandle): Uint8Array {
    const fn = this.exports.thalo_snapshot;
    if (!fn) throw this.unsupported();
    this.usable();
    let packed: bigint;
    try {
      packed = fn(handle);
    } catch (error) {
      throw this.trapped('thalo_snapshot', error);
    } finally {
      this.guestLog.end();
    }
    this.output('thalo_snapshot', packed);
    return this.memory().slice(this.outStart, this.outEnd);
  }

  /** A new state for `id` from snapshot bytes (`thalo_restore`); throws when unsupported. */
  restore(id: string, state: Uint8Array): AggregateHandle {
    const fn = this.exports.thalo_restore;
    if (!fn) throw this.unsupported();
    const idBytes = encodeId(id);
    // Both inputs share the one region: the id, then the snapshot.
    const ptr = this.input(idBytes.length + state.length);
    const view = this.memory();
    view.set(idBytes, ptr);
    view.set(state, ptr + idBytes.length);
    let handle: number;
    try {
      handle = fn(ptr, idBytes.length, ptr + idBytes.length, state.length);
    } catch (error) {
      throw this.trapped('thalo_restore', error);
    } finally {
      this.guestLog.end();
    }
    if (!(handle > 0)) throw this.fault('thalo_restore', `could not restore the snapshot of ${JSON.stringify(id)} (${state.length} bytes)`);
    return handle;
  }

  /** The input region, at least `len` bytes; asks the guest for a larger one when needed. */
  private input(len: number): number {
    this.usable();
    if (len <= this.regionSize) return this.region;
    const size = Math.max(len, this.regionSize * 2, MIN_REGION);
    try {
      if (this.region !== 0) this.exports.thalo_free(this.region, this.regionSize);
      this.region = 0;
      this.regionSize = 0;
      const ptr = this.exports.thalo_alloc(size);
      if (!(ptr > 0) || ptr + size > this.memory().length)
        throw this.fault('thalo_alloc', `returned ${ptr} for ${size} bytes, outside memory`);
      this.region = ptr;
      this.regionSize = size;
      return ptr;
    } catch (error) {
      if (error instanceof ThaloError) throw error;
      throw this.trapped('thalo_alloc', error);
    } finally {
      this.guestLog.end();
    }
  }

  private memory(): Uint8Array {
    // Growing the memory detaches the old buffer, and a view on a detached buffer has length 0.
    if (this.view.length === 0) this.view = new Uint8Array(this.exports.memory.buffer);
    return this.view;
  }

  /** Unpack an i64 (ptr << 32 | len) into `outStart`/`outEnd` and check it lies in memory. */
  private output(fn: string, packed: bigint, command?: string): void {
    if (typeof packed !== 'bigint') throw this.fault(fn, `returned ${typeof packed}, not an i64`, command);
    const ptr = Number(BigInt.asUintN(64, packed) >> 32n);
    const len = Number(BigInt.asUintN(32, packed));
    if (ptr + len > this.memory().length) throw this.fault(fn, `returned bytes [${ptr}, ${ptr + len}) outside memory`, command);
    this.outStart = ptr;
    this.outEnd = ptr + len;
  }

  private usable(): void {
    this.guestLog.begin();
    if (this.isPoisoned) {
      throw new ThaloError('GUEST_TRAP', `${this.module.name}: this instance trapped earlier and must be recreated`, {
        data: { module: this.module.name, file: this.module.file, poisoned: true },
      });
    }
  }

  private trapped(fn: string, error: unknown, command?: string): ThaloError {
    this.isPoisoned = true;
    const what = command === undefined ? fn : `${fn} (command ${command})`;
    const requested = this.growFailed === undefined ? 0 : (this.growFailed.value as number) >>> 0;
    if (requested > 0) {
      // The guest asked for memory its limit refused, then trapped: almost surely its allocator
      // giving up. Replacing the instance (the caller does) gives that memory back.
      const { bytes: limit, setBy } = this.module.facts.memoryLimit;
      const used = this.memoryBytes;
      const whose = setBy === 'runtime' ? "the runtime's cap on guest memory" : "the module's own maximum";
      return new ThaloError(
        'GUEST_MEMORY_EXCEEDED',
        `${this.module.name} ran out of memory in ${what}: it asked for ${formatBytes(requested * PAGE_BYTES)} more with ${formatBytes(used)} in use, past ${whose}, ${formatBytes(limit)} (${(error as Error).message})`,
        {
          data: {
            module: this.module.name,
            file: this.module.file,
            function: fn,
            command,
            limit,
            used,
            requested: requested * PAGE_BYTES,
            poisoned: true,
          },
          cause: error,
        },
      );
    }
    return new ThaloError('GUEST_TRAP', `${this.module.name} trapped in ${what}: ${(error as Error).message}`, {
      data: { module: this.module.name, file: this.module.file, function: fn, command, poisoned: true },
      cause: error,
    });
  }

  private fault(fn: string, problem: string, command?: string): ThaloError {
    const what = command === undefined ? fn : `${fn} (command ${command})`;
    const lastError = this.guestLog.lastError;
    const said = lastError === undefined ? '' : ` (the module logged: ${lastError})`;
    return new ThaloError('GUEST_FAULT', `${this.module.name}: ${what} ${problem}${said}`, {
      data: { module: this.module.name, file: this.module.file, function: fn, command },
    });
  }

  private unsupported(): ThaloError {
    return new ThaloError(
      'INVALID_ARGUMENT',
      `${this.module.name} does not support snapshots (it exports no thalo_snapshot/thalo_restore)`,
    );
  }
}

/** An aggregate id as UTF-8; a string with lone surrogates has no UTF-8 form and is refused. */
function encodeId(id: string): Uint8Array {
  if (typeof id !== 'string' || !id.isWellFormed()) {
    throw new ThaloError('INVALID_ARGUMENT', `aggregate id must be a well-formed string, got ${JSON.stringify(id)}`);
  }
  return Buffer.from(id, 'utf8');
}
