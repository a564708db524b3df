// The ABI v1 exports (docs/abi.md). An aggregate's entry file re-exports this module and calls
// `register` once at top level.
import { Aggregate, Command, Event, Outcome } from "./aggregate";
import { Fields, bytesEqual } from "./fields";
import { Level, log } from "./log";
import { Writer } from "./msgpack";
import { Obj } from "./obj";
import { Reader } from "./reader";
import { registered } from "./registry";

const ABI_VERSION: i32 = 1;

// The handle table: a handle is an index into `slots` (0 is never handed out).
const slots: Array<Aggregate | null> = [null];
const freeHandles: i32[] = [];

// Regions handed to the host by `thalo_alloc`, kept here so the collector leaves them alone
// until `thalo_free`.
const regions = new Map<usize, ArrayBuffer>();

// One of each per call kind, reused: a command costs as few allocations as the handler makes.
const input = new Reader(0, 0);
const out = new Writer(256);
const command = new Command("", new Fields());
const event = new Event("", new Fields());
const outcome = new Outcome();

// The minimal runtime's collector does not scan the stack, so it may only run when no object is
// referenced from it: at the end of an exported call, where only globals (the states, the output
// buffer, the regions) are roots. Collect every so many calls, and after any call that grew the
// memory (its garbage took up the free space), so memory stays flat at a small cost per call.
const COLLECT_EVERY: i32 = 2048;
let callsSinceCollect: i32 = 0;
let pagesAtCollect: i32 = memory.size();

function collectBetweenCalls(): void {
  if (++callsSinceCollect >= COLLECT_EVERY || memory.size() != pagesAtCollect) {
    // @ts-ignore: a builtin of the minimal runtime, which asc knows and tsc (for editors) does not
    __collect();
    callsSinceCollect = 0;
    pagesAtCollect = memory.size();
  }
}

function packed(w: Writer): u64 {
  collectBetweenCalls();
  return (<u64>w.ptr << 32) | <u64>w.len;
}

function keep(state: Aggregate): i32 {
  if (freeHandles.length > 0) {
    const handle = freeHandles.pop();
    slots[handle] = state;
    return handle;
  }
  slots.push(state);
  return slots.length - 1;
}

function stateOf(handle: i32): Aggregate | null {
  return handle > 0 && handle < slots.length ? slots[handle] : null;
}

/** A string read from the input, as the registered name it spells when there is one. */
function readName(r: Reader, names: string[]): string {
  const end = r.strEnd();
  const len = r.lastLength;
  if (r.error.length > 0) return "";
  for (let i = 0; i < names.length; i++) {
    if (bytesEqual(end - len, len, names[i])) return names[i];
  }
  return String.UTF8.decodeUnsafe(end - len, len);
}

function writeStrings(w: Writer, list: string[]): void {
  w.array(list.length);
  for (let i = 0; i < list.length; i++) w.str(list[i]);
}

export function thalo_abi_version(): i32 {
  return ABI_VERSION;
}

// ArrayBuffer's own limit (a block of at most 1 GiB, less its header): asking for more would
// abort, a trap, where the ABI wants 0 for "cannot".
const MAX_REGION: i32 = (1 << 30) - 64;

export function thalo_alloc(len: i32): usize {
  if (len < 0 || len > MAX_REGION) return 0;
  const region = new ArrayBuffer(len);
  const ptr = changetype<usize>(region);
  regions.set(ptr, region);
  return ptr;
}

export function thalo_free(ptr: usize, len: i32): void {
  regions.delete(ptr);
}

export function thalo_describe(): u64 {
  const w = out.reset();
  w.map(4);
  w.str("name");
  w.str(registered.name);
  w.str("version");
  w.str(registered.version);
  w.str("commands");
  writeStrings(w, registered.commands);
  w.str("events");
  writeStrings(w, registered.events);
  return packed(w);
}

export function thalo_new(idPtr: usize, idLen: i32): i32 {
  if (registered.create == null) return 0;
  const handle = keep(registered.create!(String.UTF8.decodeUnsafe(idPtr, idLen)));
  collectBetweenCalls();
  return handle;
}

export function thalo_drop(handle: i32): void {
  if (stateOf(handle) == null) return;
  slots[handle] = null;
  freeHandles.push(handle);
  collectBetweenCalls();
}

export function thalo_apply(handle: i32, ptr: usize, len: i32): i32 {
  const state = stateOf(handle);
  if (state == null) {
    log(Level.Error, "no state for handle " + handle.toString());
    return 1;
  }
  const r = input.reset(ptr, ptr + len);
  const n = r.array();
  let status = 0;
  for (let i = 0; i < n && r.error.length == 0; i++) {
    if (r.array() != 2) {
      log(Level.Error, "an event must be [type, data]");
      status = 2;
      break;
    }
    event.type = readName(r, registered.events);
    event.data.parse(r);
    if (r.error.length > 0) break;
    event.names = registered.events;
    event.fault = "";
    state.apply(event);
    // An event this module cannot read (a missing or mistyped field) must not pass for zeros.
    if (event.data.error.length > 0) {
      log(Level.Error, "cannot apply " + event.type + ": " + event.data.error);
      status = 4;
      break;
    }
    if (event.fault.length > 0) {
      log(Level.Error, "cannot apply " + event.type + ": " + event.fault);
      status = 4;
      break;
    }
  }
  if (status == 0 && r.error.length > 0) {
    log(Level.Error, "malformed event list: " + r.error);
    status = 3;
  }
  collectBetweenCalls();
  return status;
}

function rejection(code: string, message: string, details: Obj | null = null): u64 {
  const w = out.reset();
  w.array(4);
  w.int(1);
  w.str(code);
  w.str(message);
  if (details != null) details.writeTo(w);
  else w.nil();
  return packed(w);
}

function fault(message: string): u64 {
  log(Level.Error, message);
  collectBetweenCalls();
  return 0;
}

export function thalo_handle(handle: i32, ptr: usize, len: i32): u64 {
  const state = stateOf(handle);
  if (state == null) {
    // A host bug, not a business outcome: an empty result is malformed, so the host faults.
    log(Level.Error, "no state for handle " + handle.toString());
    return 0;
  }
  const r = input.reset(ptr, ptr + len);
  if (r.array() != 2) return rejection("INVALID_PAYLOAD", "a command must be [name, payload]");
  command.name = readName(r, registered.commands);
  command.data.parse(r);
  if (r.error.length > 0) return rejection("INVALID_PAYLOAD", "malformed command: " + r.error);
  if (!registered.commands.includes(command.name)) {
    return rejection("UNKNOWN_COMMAND", registered.name + " has no command " + command.name);
  }
  outcome.reset();
  command.names = registered.commands;
  command.fault = "";
  state.handle(command, outcome);
  // A payload the handler could not read wins over what the handler decided on neutral values.
  if (command.data.error.length > 0) return rejection("INVALID_PAYLOAD", command.name + ": " + command.data.error);
  // Bugs in the module, not business outcomes: an empty result makes the host fail the command
  // with GUEST_FAULT, quoting the error line logged here.
  if (command.fault.length > 0) return fault(command.name + ": " + command.fault);
  if (!outcome.decided) {
    return fault(
      command.name + ": handle decided nothing (no emit, reject or noEvents): handle every registered command, and call out.noEvents() when one changes nothing",
    );
  }
  if (outcome.rejected) return rejection(outcome.code, outcome.message, outcome.details);
  const w = out.reset();
  w.array(2);
  w.int(0);
  const types = outcome.types;
  w.array(types.length);
  for (let i = 0; i < types.length; i++) {
    w.array(2);
    w.str(types[i]);
    outcome.data[i].writeTo(w);
  }
  return packed(w);
}

export function thalo_snapshot(handle: i32): u64 {
  const w = out.reset();
  const state = stateOf(handle);
  if (state != null) state.snapshot().writeTo(w);
  else {
    // A host bug: nil restores to nothing, and the line says why.
    log(Level.Error, "no state for handle " + handle.toString());
    w.nil();
  }
  return packed(w);
}

export function thalo_restore(idPtr: usize, idLen: i32, ptr: usize, len: i32): i32 {
  if (registered.create == null) return 0;
  const state = registered.create!(String.UTF8.decodeUnsafe(idPtr, idLen));
  const r = input.reset(ptr, ptr + len);
  if (!r.isMap()) {
    log(Level.Error, "a snapshot must be a msgpack map");
    return 0;
  }
  const fields = Fields.read(r);
  state.restore(fields);
  // restore reads through Fields too: a mistyped value, nested ones included, fails the restore.
  if (r.error.length > 0 || fields.error.length > 0) {
    log(Level.Error, "cannot restore the snapshot: " + (r.error.length > 0 ? r.error : fields.error));
    return 0;
  }
  const handle = keep(state);
  collectBetweenCalls();
  return handle;
}
