/**
 * One instance of an aggregate module, and the typed wrapper around its ABI calls.
 *
 * Bytes cross the boundary by copy: inputs are written into a region the guest hands out
 * (`thalo_alloc`), outputs are copied out before the next call (they are only valid until then).
 * Memory views are re-created whenever the guest's memory grew, since growing detaches the old
 * `ArrayBuffer`.
 *
 * Any exception out of a guest call is a trap: the instance's memory may be inconsistent, so the
 * instance marks itself `poisoned` and must be replaced (docs/abi.md, "What the host does").
 */
import { Packr, unpack } from 'msgpackr';
import { ThaloError } from '../errors.js';
import type { AggregateModule } from './aggregate-module.js';
import { FrameError, FrameReader, arrayHeaderSize, encodeString, writeArrayHeader } from './msgpack-frames.js';
import type { AggregateHandle, GuestEvent, HandleOutcome } from './types.js';

export type GuestLogger = (level: number, message: string, module: string) => void;

interface Exports {
  memory: WebAssembly.Memory;
  thalo_alloc(len: number): number;
  thalo_new(idPtr: number, idLen: number): number;
  thalo_drop(handle: number): void;
  thalo_apply(handle: number, ptr: number, len: number): number;
  thalo_handle(handle: number, ptr: number, len: number): bigint;
  thalo_snapshot?(handle: number): bigint;
  thalo_restore?(idPtr: number, idLen: number, ptr: number, len: number): number;
}

/** Thrown by the host side of `env.abort`, so the guest call unwinds like a trap. */
class GuestAbort extends Error {}

const packr = new Packr({ useRecords: false });
/** msgpack strings of event types and command names, encoded once. */
const typeCache = new Map<string, Uint8Array>();

function encodedType(type: string): Uint8Array {
  let encoded = typeCache.get(type);
  if (!encoded) {
    encoded = encodeString(type);
    if (typeCache.size < 10_000) typeCache.set(type, encoded);
  }
  return encoded;
}

export class AggregateInstance {
  private readonly exports: Exports;
  private readonly commands: ReadonlySet<string>;
  private view: Uint8Array;
  private isPoisoned = false;

  constructor(
    readonly module: AggregateModule,
    private readonly maxPayloadBytes: number,
    log: GuestLogger | undefined,
  ) {
    let instance: WebAssembly.Instance | undefined;
    instance = new WebAssembly.Instance(module.compiled, AggregateInstance.imports(() => instance!, module.file, log));
    this.exports = instance.exports as unknown as Exports;
    this.commands = new Set(module.description.commands);
    this.view = new Uint8Array(this.exports.memory.buffer);
  }

  /** The import object ABI v1 allows: `thalo.log` and AssemblyScript's `env.abort`. */
  static imports(instance: () => WebAssembly.Instance, file: string, log: GuestLogger | undefined): WebAssembly.Imports {
    const memory = () => new Uint8Array((instance().exports.memory as WebAssembly.Memory).buffer);
    const asString = (ptr: number): string => {
      // AssemblyScript strings are UTF-16 with their byte length stored 4 bytes before them.
      if (ptr === 0) return '';
      const bytes = memory();
      if (ptr < 4 || ptr > bytes.length) return '';
      const len = new DataView(bytes.buffer).getUint32(ptr - 4, true);
      return Buffer.from(bytes.buffer, ptr, Math.min(len, bytes.length - ptr)).toString('utf16le');
    };
    return {
      thalo: {
        log: (level: number, ptr: number, len: number) => {
          if (!log) return;
          const bytes = memory();
          log(level, Buffer.from(bytes.buffer, ptr, Math.min(len, bytes.length - ptr)).toString('utf8'), file);
        },
      },
      env: {
        abort: (msg: number, source: number, line: number, column: number) => {
          throw new GuestAbort(`abort: ${asString(msg)} at ${asString(source)}:${line}:${column}`);
        },
      },
    };
  }

  /** True after a trap: the instance must not be used again; replace it with `module.instantiate()`. */
  get poisoned(): boolean {
    return this.isPoisoned;
  }

  create(id: string): AggregateHandle {
    const [ptr, len] = this.writeId(id);
    const handle = this.call('thalo_new', () => this.exports.thalo_new(ptr, len));
    if (handle <= 0) throw this.fault('thalo_new', `returned handle ${handle} for id ${JSON.stringify(id)}`);
    return handle;
  }

  drop(handle: AggregateHandle): void {
    this.call('thalo_drop', () => this.exports.thalo_drop(handle));
  }

  /** Apply stored events to a state. Event data is handed over exactly as stored. */
  apply(handle: AggregateHandle, events: readonly GuestEvent[]): void {
    if (events.length === 0) return;
    let size = arrayHeaderSize(events.length);
    for (const event of events) size += 1 + encodedType(event.type).length + event.data.length;
    const ptr = this.alloc(size);
    const view = this.memory();
    let offset = writeArrayHeader(view, ptr, events.length);
    for (const event of events) {
      view[offset++] = 0x92;
      const type = encodedType(event.type);
      view.set(type, offset);
      offset += type.length;
      view.set(event.data, offset);
      offset += event.data.length;
    }
    const status = this.call('thalo_apply', () => this.exports.thalo_apply(handle, ptr, size));
    if (status !== 0) throw this.fault('thalo_apply', `returned status ${status}`);
  }

  /**
   * Decide on a command. `payload` is a JSON-compatible value, packed with msgpack. Returns the
   * events (data as the guest's msgpack bytes) or the aggregate's rejection.
   */
  handle(handle: AggregateHandle, command: string, payload: unknown): HandleOutcome {
    if (!this.commands.has(command)) {
      throw new ThaloError('UNKNOWN_COMMAND', `${this.module.name} has no command ${JSON.stringify(command)} (it has: ${this.module.description.commands.join(', ')})`, {
        data: { aggregate: this.module.name, command },
      });
    }
    let body: Uint8Array;
    try {
      body = packr.pack(payload);
    } catch (error) {
      throw new ThaloError('INVALID_PAYLOAD', `${this.module.name} ${command}: the payload cannot be encoded (${(error as Error).message})`, { cause: error });
    }
    if (body.length > this.maxPayloadBytes) {
      throw new ThaloError('PAYLOAD_TOO_LARGE', `${this.module.name} ${command}: the payload takes ${body.length} bytes; the limit is ${this.maxPayloadBytes}`, {
        data: { size: body.length, limit: this.maxPayloadBytes },
      });
    }
    // The command [name, payload]: an array header, the name (encoded once), the packed payload.
    const name = encodedType(command);
    const length = 1 + name.length + body.length;
    const ptr = this.alloc(length);
    const view = this.memory();
    view[ptr] = 0x92;
    view.set(name, ptr + 1);
    view.set(body, ptr + 1 + name.length);
    const packed = this.call('thalo_handle', () => this.exports.thalo_handle(handle, ptr, length), command);
    const [start, end] = this.output('thalo_handle', packed, command);
    try {
      return readResult(new FrameReader(this.memory(), start, end));
    } catch (error) {
      if (error instanceof FrameError) throw this.fault('thalo_handle', `returned a malformed result: ${error.message}`, command);
      throw error;
    }
  }

  snapshot(handle: AggregateHandle): Uint8Array {
    const fn = this.exports.thalo_snapshot;
    if (!fn) throw this.unsupported();
    const packed = this.call('thalo_snapshot', () => fn(handle));
    const [start, end] = this.output('thalo_snapshot', packed);
    return this.memory().slice(start, end);
  }

  restore(id: string, state: Uint8Array): AggregateHandle {
    const fn = this.exports.thalo_restore;
    if (!fn) throw this.unsupported();
    const [idPtr, idLen] = this.writeId(id);
    // Allocate the state after the id is in place: the guest may hand out one scratch region.
    const idCopy = this.memory().slice(idPtr, idPtr + idLen);
    const ptr = this.alloc(idLen + state.length);
    const view = this.memory();
    view.set(idCopy, ptr);
    view.set(state, ptr + idLen);
    const handle = this.call('thalo_restore', () => fn(ptr, idLen, ptr + idLen, state.length));
    if (handle <= 0) throw this.fault('thalo_restore', 'could not restore the snapshot');
    return handle;
  }

  private writeId(id: string): [number, number] {
    if (typeof id !== 'string' || !id.isWellFormed()) {
      throw new ThaloError('INVALID_ARGUMENT', `aggregate id must be a well-formed string, got ${JSON.stringify(id)}`);
    }
    const bytes = Buffer.from(id, 'utf8');
    const ptr = this.alloc(bytes.length);
    this.memory().set(bytes, ptr);
    return [ptr, bytes.length];
  }

  private alloc(len: number): number {
    const ptr = this.call('thalo_alloc', () => this.exports.thalo_alloc(len));
    if (ptr <= 0 || ptr + len > this.memory().length) throw this.fault('thalo_alloc', `returned ${ptr} for ${len} bytes, outside memory`);
    return ptr;
  }

  private memory(): Uint8Array {
    if (this.view.buffer !== this.exports.memory.buffer) this.view = new Uint8Array(this.exports.memory.buffer);
    return this.view;
  }

  /** Unpack an i64 (ptr << 32 | len) and check it lies in memory. */
  private output(fn: string, packed: bigint, command?: string): [number, number] {
    if (typeof packed !== 'bigint') throw this.fault(fn, `returned ${typeof packed}, not an i64`, command);
    const ptr = Number(BigInt.asUintN(64, packed) >> 32n);
    const len = Number(BigInt.asUintN(32, packed));
    if (ptr + len > this.memory().length) throw this.fault(fn, `returned bytes [${ptr}, ${ptr + len}) outside memory`, command);
    return [ptr, ptr + len];
  }

  private call<T>(fn: string, invoke: () => T, command?: string): T {
    if (this.isPoisoned) {
      throw new ThaloError('GUEST_TRAP', `${this.module.name}: this instance trapped earlier and must be recreated`, { data: { module: this.module.name } });
    }
    try {
      return invoke();
    } catch (error) {
      this.isPoisoned = true;
      const what = command === undefined ? fn : `${fn} (command ${command})`;
      throw new ThaloError('GUEST_TRAP', `${this.module.name} trapped in ${what}: ${(error as Error).message}`, {
        data: { module: this.module.name, file: this.module.file, function: fn, command },
        cause: error,
      });
    }
  }

  private fault(fn: string, problem: string, command?: string): ThaloError {
    const what = command === undefined ? fn : `${fn} (command ${command})`;
    return new ThaloError('GUEST_FAULT', `${this.module.name}: ${what} ${problem}`, { data: { module: this.module.name, file: this.module.file, function: fn, command } });
  }

  private unsupported(): ThaloError {
    return new ThaloError('INVALID_ARGUMENT', `${this.module.name} does not support snapshots (it exports no thalo_snapshot/thalo_restore)`);
  }
}

function readResult(reader: FrameReader): HandleOutcome {
  const length = reader.arrayHeader();
  const tag = reader.smallUint();
  if (tag === 0 && length === 2) {
    const count = reader.arrayHeader();
    const events = new Array<GuestEvent>(count);
    for (let i = 0; i < count; i++) {
      if (reader.arrayHeader() !== 2) throw new FrameError('an event must be [type, data]');
      const type = reader.string();
      if (type.length === 0) throw new FrameError('an event type is empty');
      const [start, end] = reader.skip();
      events[i] = { type, data: reader.bytes.slice(start, end) };
    }
    if (reader.offset !== reader.end) throw new FrameError('trailing bytes after the result');
    return { kind: 'events', events };
  }
  if (tag === 1 && length === 4) {
    const code = reader.string();
    const message = reader.string();
    const [start, end] = reader.skip();
    const outcome: HandleOutcome = { kind: 'rejected', code, message };
    if (!(end - start === 1 && reader.bytes[start] === 0xc0)) outcome.data = unpack(reader.bytes.subarray(start, end));
    return outcome;
  }
  throw new FrameError(`unknown result: tag ${tag} with ${length} elements`);
}
