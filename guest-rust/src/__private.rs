//! What `export_aggregate!` expands to call: ABI v1's module side (docs/abi.md). Not a public
//! API; its names may change.
use std::alloc::{self, Layout};
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::wire::{self, Reader};
use crate::{de, log, ser, Aggregate, Command, Event, Rejection};

/// Routes a command to the aggregate's `Handle` impl (`#[derive(Command)]` implements it).
pub trait HandleWith<A: Aggregate> {
    fn handle_with(self, aggregate: &A) -> Result<Vec<A::Event>, Rejection>;
}

/// Routes an event to the aggregate's `Apply` impl (`#[derive(Event)]` implements it).
pub trait ApplyTo<A> {
    fn apply_to(self, aggregate: &mut A);
}

/// The states of one instance, by handle (index + 1); freed slots are reused.
pub struct Table<A> {
    slots: Vec<Option<A>>,
    free: Vec<usize>,
}

impl<A> Table<A> {
    pub const fn new() -> Self {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    fn insert(&mut self, state: A) -> i32 {
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(state);
                index
            }
            None => {
                self.slots.push(Some(state));
                self.slots.len() - 1
            }
        };
        index as i32 + 1
    }

    fn get(&mut self, handle: i32) -> Option<&mut A> {
        let index = (handle as usize).checked_sub(1)?;
        self.slots.get_mut(index)?.as_mut()
    }

    pub fn remove(&mut self, handle: i32) {
        if let Some(slot) = (handle as usize).checked_sub(1).and_then(|i| self.slots.get_mut(i)) {
            if slot.take().is_some() {
                self.free.push(handle as usize - 1);
            }
        }
    }
}

// ---- memory ----------------------------------------------------------------------------------

fn layout(len: i32) -> Option<Layout> {
    Layout::from_size_align((len as u32 as usize).max(1), 8).ok()
}

pub fn alloc(len: i32) -> i32 {
    match layout(len) {
        // Safety: the layout has a non-zero size.
        Some(layout) => unsafe { alloc::alloc(layout) as usize as i32 },
        None => 0,
    }
}

pub fn free(ptr: i32, len: i32) {
    if let (Some(layout), false) = (layout(len), ptr == 0) {
        // Safety: the host passes back what `alloc(len)` returned, with the same `len`.
        unsafe { alloc::dealloc(ptr as u32 as usize as *mut u8, layout) }
    }
}

/// The host's input bytes. Safety: the host wrote `len` bytes at `ptr` for this call.
fn input<'a>(ptr: i32, len: i32) -> &'a [u8] {
    if len <= 0 {
        return &[];
    }
    unsafe { std::slice::from_raw_parts(ptr as u32 as usize as *const u8, len as u32 as usize) }
}

/// The bytes a call returns: valid until the next call into the module (docs/abi.md).
static mut OUT: Vec<u8> = Vec::new();

fn out() -> &'static mut Vec<u8> {
    // Safety: single-threaded, and calls never overlap.
    let out = unsafe { &mut OUT };
    out.clear();
    out
}

fn packed(bytes: &[u8]) -> i64 {
    (((bytes.as_ptr() as usize as u64) << 32) | bytes.len() as u64) as i64
}

/// A result the host refuses as malformed (`GUEST_FAULT`), after an error line that says why.
fn fault(message: &str) -> i64 {
    log::error(message);
    -1
}

// ---- msgpack writing -------------------------------------------------------------------------

fn array(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_array_len(out, len as u32);
}

fn string(out: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(out, s);
}

fn names(out: &mut Vec<u8>, list: &[&str]) {
    array(out, list.len());
    for name in list {
        string(out, name);
    }
}

// ---- the exports -----------------------------------------------------------------------------

pub fn describe<A: Aggregate>(name: &str, version: &str) -> i64 {
    let out = out();
    let _ = rmp::encode::write_map_len(out, 4);
    string(out, "name");
    string(out, name);
    string(out, "version");
    string(out, version);
    string(out, "commands");
    names(out, <A::Command as Command>::NAMES);
    string(out, "events");
    names(out, <A::Event as Event>::NAMES);
    packed(out)
}

pub fn new<A: Aggregate>(table: &mut Table<A>, id_ptr: i32, id_len: i32) -> i32 {
    match std::str::from_utf8(input(id_ptr, id_len)) {
        Ok(id) => table.insert(A::init(id.to_owned())),
        Err(_) => {
            log::error("thalo_new: the id is not valid UTF-8");
            0
        }
    }
}

fn reject(out: &mut Vec<u8>, code: &str, message: &str, data: Option<&[u8]>) {
    out.clear();
    array(out, 4);
    let _ = rmp::encode::write_uint(out, 1);
    string(out, code);
    string(out, message);
    match data {
        Some(bytes) => out.extend_from_slice(bytes),
        None => out.push(0xc0),
    }
}

/// Decode `content` as variant `name` of `T` (integral floats read as integers: wire::integers).
fn decode<'a, T: Deserialize<'a>>(name: &'a str, content: &'a [u8]) -> Result<T, de::Error> {
    T::deserialize(de::Variant { name, content })
}

pub fn handle<A>(table: &mut Table<A>, handle: i32, ptr: i32, len: i32) -> i64
where
    A: Aggregate,
    A::Command: HandleWith<A> + DeserializeOwned,
    A::Event: Serialize,
{
    let out = out();
    let mut reader = Reader::new(input(ptr, len));
    let (name, payload, floats) = match reader.array() {
        Ok(2) => match reader.str() {
            Ok(name) => match reader.value() {
                Ok((payload, floats)) => (name, payload, floats),
                Err(problem) => {
                    reject(out, "INVALID_PAYLOAD", &format!("malformed command: {}", problem), None);
                    return packed(out);
                }
            },
            Err(problem) => {
                reject(out, "INVALID_PAYLOAD", &format!("malformed command: {}", problem), None);
                return packed(out);
            }
        },
        _ => {
            reject(out, "INVALID_PAYLOAD", "a command must be [name, payload]", None);
            return packed(out);
        }
    };
    if !<A::Command as Command>::NAMES.contains(&name) {
        reject(out, "UNKNOWN_COMMAND", &format!("this aggregate has no command {}", name), None);
        return packed(out);
    }
    let payload = wire::integers(payload, floats);
    let command: A::Command = match decode(name, &payload) {
        Ok(command) => command,
        Err(error) => {
            reject(out, "INVALID_PAYLOAD", &format!("{}: {}", name, error), None);
            return packed(out);
        }
    };
    let state = match table.get(handle) {
        Some(state) => state,
        None => return fault(&format!("thalo_handle: no state has handle {}", handle)),
    };
    match command.handle_with(state) {
        Ok(events) => {
            array(out, 2);
            out.push(0x00);
            array(out, events.len());
            for (i, event) in events.iter().enumerate() {
                array(out, 2);
                string(out, event.event_type());
                if let Err(error) = event.serialize(ser::EventContent(out)) {
                    return fault(&format!(
                        "{}: event {} ({}) could not be encoded: {}",
                        name,
                        i,
                        event.event_type(),
                        error
                    ));
                }
            }
        }
        Err(rejection) => reject(out, rejection.code(), rejection.message(), rejection.data()),
    }
    packed(out)
}

pub fn apply<A>(table: &mut Table<A>, handle: i32, ptr: i32, len: i32) -> i32
where
    A: Aggregate,
    A::Event: ApplyTo<A> + DeserializeOwned,
{
    let state = match table.get(handle) {
        Some(state) => state,
        None => {
            log::error(&format!("thalo_apply: no state has handle {}", handle));
            return 3;
        }
    };
    let mut reader = Reader::new(input(ptr, len));
    let count = match reader.array() {
        Ok(count) => count,
        Err(problem) => {
            log::error(&format!("thalo_apply: malformed event list: {}", problem));
            return 1;
        }
    };
    for i in 0..count {
        let framed = reader
            .array()
            .and_then(|n| if n == 2 { Ok(()) } else { Err("an event must be [type, data]") });
        let (event_type, (data, floats)) = match framed.and_then(|_| Ok((reader.str()?, reader.value()?))) {
            Ok(parts) => parts,
            Err(problem) => {
                log::error(&format!("thalo_apply: event {}: {}", i, problem));
                return 1;
            }
        };
        // A type this version does not declare (an older version wrote it): passed over.
        if !<A::Event as Event>::NAMES.contains(&event_type) {
            continue;
        }
        let data = wire::integers(data, floats);
        let event: A::Event = match decode(event_type, &data) {
            Ok(event) => event,
            Err(error) => {
                log::error(&format!("thalo_apply: event {} ({}) does not decode: {}", i, event_type, error));
                return 2;
            }
        };
        event.apply_to(state);
    }
    0
}

// ---- snapshots -------------------------------------------------------------------------------

/// How a state becomes bytes and back; `None` when the aggregate has no serde.
pub type SnapshotFns<A> = (fn(&A) -> Result<Vec<u8>, String>, fn(&[u8]) -> Result<A, String>);

/// Picks serde snapshots when `A: Serialize + DeserializeOwned`, and none otherwise, by method
/// resolution on `&&SnapshotProbe<A>` (autoref specialization: the `&SnapshotProbe` impl is
/// found first and applies only under its bounds).
pub struct SnapshotProbe<A>(PhantomData<A>);

impl<A> SnapshotProbe<A> {
    pub fn new() -> Self {
        SnapshotProbe(PhantomData)
    }
}

pub trait ViaSerde<A> {
    fn snapshot_fns(&self) -> Option<SnapshotFns<A>>;
}

impl<A: Serialize + DeserializeOwned> ViaSerde<A> for &SnapshotProbe<A> {
    fn snapshot_fns(&self) -> Option<SnapshotFns<A>> {
        Some((
            |state| rmp_serde::to_vec_named(state).map_err(|e| e.to_string()),
            |bytes| rmp_serde::from_slice(bytes).map_err(|e| e.to_string()),
        ))
    }
}

pub trait NoSnapshots<A> {
    fn snapshot_fns(&self) -> Option<SnapshotFns<A>> {
        None
    }
}

impl<A> NoSnapshots<A> for SnapshotProbe<A> {}

pub fn snapshot<A>(table: &mut Table<A>, handle: i32, fns: Option<SnapshotFns<A>>) -> i64 {
    let (to_bytes, _) = match fns {
        Some(fns) => fns,
        None => return fault("thalo_snapshot: this aggregate does not implement Serialize and Deserialize, so it has no snapshots"),
    };
    let state = match table.get(handle) {
        Some(state) => state,
        None => return fault(&format!("thalo_snapshot: no state has handle {}", handle)),
    };
    match to_bytes(state) {
        Ok(bytes) => {
            let out = out();
            out.extend_from_slice(&bytes);
            packed(out)
        }
        Err(error) => fault(&format!("thalo_snapshot: the state could not be encoded: {}", error)),
    }
}

pub fn restore<A>(table: &mut Table<A>, id_ptr: i32, id_len: i32, ptr: i32, len: i32, fns: Option<SnapshotFns<A>>) -> i32 {
    let _ = (id_ptr, id_len);
    let (_, from_bytes) = match fns {
        Some(fns) => fns,
        None => {
            log::error("thalo_restore: this aggregate does not implement Serialize and Deserialize, so it has no snapshots");
            return 0;
        }
    };
    let bytes = input(ptr, len);
    let mut reader = Reader::new(bytes);
    let normalised = match reader.value() {
        Ok((value, floats)) => wire::integers(value, floats),
        Err(_) => bytes.into(),
    };
    match from_bytes(&normalised) {
        Ok(state) => table.insert(state),
        Err(error) => {
            log::error(&format!("thalo_restore: the snapshot does not decode: {}", error));
            0
        }
    }
}
