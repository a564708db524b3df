// The ABI v1 exports (docs/abi.md). An aggregate's entry file re-exports this module and calls
// `register` once at top level.
import { Aggregate, Command, Event, Fields, Outcome } from "./aggregate";
import { Reader, Writer } from "./msgpack";
import { registered } from "./registry";

const ABI_VERSION: i32 = 1;

const states = new Map<i32, Aggregate>();
const freeHandles: i32[] = [];
let nextHandle: i32 = 1;
let scratch = new ArrayBuffer(1024);
const out = new Writer();

// The minimal runtime's collector does not scan the stack, so it may only run when no object is
// referenced from it: at the end of an exported call, where only globals (the states, the output
// buffer) are roots. Collecting every so many calls keeps memory flat at a small cost per call.
const COLLECT_EVERY: i32 = 2048;
let callsSinceCollect: i32 = 0;

function packed(w: Writer): u64 {
  if (++callsSinceCollect >= COLLECT_EVERY) {
    callsSinceCollect = 0;
    __collect();
  }
  return (<u64>w.ptr << 32) | <u64>w.len;
}

function keep(state: Aggregate): i32 {
  const handle = freeHandles.length > 0 ? freeHandles.pop() : nextHandle++;
  states.set(handle, state);
  return handle;
}

function writeStrings(w: Writer, list: string[]): void {
  w.array(list.length);
  for (let i = 0; i < list.length; i++) w.str(list[i]);
}

export function thalo_abi_version(): i32 {
  return ABI_VERSION;
}

export function thalo_alloc(len: i32): usize {
  if (scratch.byteLength < len) scratch = new ArrayBuffer(len);
  return changetype<usize>(scratch);
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
  return keep(registered.create!(String.UTF8.decodeUnsafe(idPtr, idLen)));
}

export function thalo_drop(handle: i32): void {
  if (states.delete(handle)) freeHandles.push(handle);
}

export function thalo_apply(handle: i32, ptr: usize, len: i32): i32 {
  if (!states.has(handle)) return 1;
  const state = states.get(handle);
  const r = new Reader(ptr, ptr + len);
  const n = r.array();
  for (let i = 0; i < n && r.error.length == 0; i++) {
    if (r.array() != 2) return 2;
    const type = r.str();
    const data = Fields.read(r);
    if (r.error.length > 0) break;
    state.apply(new Event(type, data));
  }
  const status = r.error.length > 0 ? 3 : 0;
  if (++callsSinceCollect >= COLLECT_EVERY) {
    callsSinceCollect = 0;
    __collect();
  }
  return status;
}

function rejection(code: string, message: string): u64 {
  const w = out.reset();
  w.array(4);
  w.int(1);
  w.str(code);
  w.str(message);
  w.nil();
  return packed(w);
}

export function thalo_handle(handle: i32, ptr: usize, len: i32): u64 {
  if (!states.has(handle)) return rejection("UNKNOWN_HANDLE", "no state for handle " + handle.toString());
  const state = states.get(handle);
  const r = new Reader(ptr, ptr + len);
  if (r.array() != 2) return rejection("INVALID_PAYLOAD", "a command must be [name, payload]");
  const commandName = r.str();
  const data = Fields.read(r);
  if (r.error.length > 0) return rejection("INVALID_PAYLOAD", "malformed command: " + r.error);
  const outcome = new Outcome();
  state.handle(new Command(commandName, data), outcome);
  // A payload the handler could not read wins over what the handler decided on neutral values.
  if (data.error.length > 0) return rejection("INVALID_PAYLOAD", commandName + ": " + data.error);
  if (outcome.rejected) return rejection(outcome.code, outcome.message);
  if (outcome.types.length == 0 && !registered.commands.includes(commandName)) {
    return rejection("UNKNOWN_COMMAND", registered.name + " has no command " + commandName);
  }
  const w = out.reset();
  w.array(2);
  w.int(0);
  w.array(outcome.types.length);
  for (let i = 0; i < outcome.types.length; i++) {
    w.array(2);
    w.str(outcome.types[i]);
    outcome.data[i].writeTo(w);
  }
  return packed(w);
}

export function thalo_snapshot(handle: i32): u64 {
  const w = out.reset();
  if (states.has(handle)) states.get(handle).snapshot().writeTo(w);
  else w.nil();
  return packed(w);
}

export function thalo_restore(idPtr: usize, idLen: i32, ptr: usize, len: i32): i32 {
  if (registered.create == null) return 0;
  const state = registered.create!(String.UTF8.decodeUnsafe(idPtr, idLen));
  const r = new Reader(ptr, ptr + len);
  const fields = Fields.read(r);
  state.restore(fields);
  if (r.error.length > 0 || fields.error.length > 0) return 0;
  return keep(state);
}
