//! Write Thalo for Node aggregates in Rust, the way the original Thalo's users write them.
//!
//! ```ignore
//! use std::convert::Infallible;
//! use serde::{Deserialize, Serialize};
//! use thalo::{events, export_aggregate, Aggregate, Apply, Command, Event, Handle};
//!
//! export_aggregate!(Counter);
//!
//! pub struct Counter { count: u64 }
//!
//! impl Aggregate for Counter {
//!     type Command = CounterCommand;
//!     type Event = CounterEvent;
//!     fn init(_id: String) -> Self { Counter { count: 0 } }
//! }
//!
//! #[derive(Command, Deserialize)]
//! pub enum CounterCommand { Increment { amount: u64 } }
//!
//! impl Handle<CounterCommand> for Counter {
//!     type Error = Infallible;
//!     fn handle(&self, cmd: CounterCommand) -> Result<Vec<CounterEvent>, Self::Error> {
//!         match cmd { CounterCommand::Increment { amount } => events![Incremented { amount }] }
//!     }
//! }
//!
//! #[derive(Event, Serialize, Deserialize)]
//! pub enum CounterEvent { Incremented(Incremented) }
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Incremented { pub amount: u64 }
//!
//! impl Apply<Incremented> for Counter {
//!     fn apply(&mut self, event: Incremented) { self.count += event.amount; }
//! }
//! ```
//!
//! `export_aggregate!` writes the module's side of ABI v1 (docs/abi.md in the repository): the
//! handle table, the msgpack framing, and the exports the host calls. A command's payload is
//! deserialized into its variant with serde, an event's data is its variant's content serialized
//! as a msgpack map, and the state is snapshotted through serde when the aggregate implements
//! `Serialize` and `Deserialize` (the module has no snapshots otherwise).
use std::convert::Infallible;
use std::fmt;

pub use thalo_macros::{Command, Event};

mod de;
pub mod log;
mod ser;
mod wire;

#[doc(hidden)]
pub mod __private;

/// An aggregate: its state, the commands it decides on and the events it records.
pub trait Aggregate: Sized {
    /// The commands, an enum with `#[derive(Command, Deserialize)]`.
    type Command: Command;
    /// The events, an enum with `#[derive(Event, Serialize, Deserialize)]`.
    type Event: Event;
    /// The state of aggregate `id` before its first event.
    fn init(id: String) -> Self;
}

/// A command enum (`#[derive(Command)]` implements it).
pub trait Command: Sized {
    /// The variants' names: the commands the module declares.
    const NAMES: &'static [&'static str];
}

/// An event enum (`#[derive(Event)]` implements it).
pub trait Event: Sized {
    /// The variants' names: the event types the module declares.
    const NAMES: &'static [&'static str];
    /// This event's type (its variant's name).
    fn event_type(&self) -> &'static str;
}

/// Decides on command `C`: the events to record, or a rejection. Must not change the state; the
/// runtime applies the events once they are stored.
pub trait Handle<C>: Aggregate {
    /// What a refusal looks like; anything that converts into a [`Rejection`]
    /// (`Infallible` for a command that is never refused).
    type Error: Into<Rejection>;
    fn handle(&self, cmd: C) -> Result<Vec<<Self as Aggregate>::Event>, Self::Error>;
}

/// Records event `E` in the state.
pub trait Apply<E> {
    fn apply(&mut self, event: E);
}

/// A business rejection: the caller sees `COMMAND_REJECTED` with this code, message and data,
/// and nothing is written.
///
/// ```ignore
/// Rejection::new("INSUFFICIENT_FUNDS", format!("cannot withdraw {} from a balance of {}", amount, balance))
///     .with_data(&Shortfall { balance, requested: amount })
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    code: String,
    message: String,
    /// msgpack bytes of the data, when there is any.
    data: Option<Vec<u8>>,
}

impl Rejection {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection {
            code: code.into(),
            message: message.into(),
            data: None,
        }
    }

    /// Attach data (any serde value: a struct becomes a map).
    pub fn with_data<T: serde::Serialize + ?Sized>(mut self, data: &T) -> Self {
        match rmp_serde::to_vec_named(data) {
            Ok(bytes) => self.data = Some(bytes),
            Err(error) => {
                self.message = format!("{} (its data could not be encoded: {})", self.message, error);
            }
        }
        self
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The data as msgpack bytes.
    pub fn data(&self) -> Option<&[u8]> {
        self.data.as_deref()
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rejection({}: {})", self.code, self.message)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<Infallible> for Rejection {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// `events![a, b]` is `Ok(vec![a.into(), b.into()])`: the result of a `Handle` that accepts.
#[macro_export]
macro_rules! events {
    ($($event:expr),* $(,)?) => {
        ::core::result::Result::Ok(::std::vec![$(::core::convert::Into::into($event)),*])
    };
}

/// Export aggregate `$t` as the module's aggregate (ABI v1). Use it once per crate; the crate is
/// a `cdylib` built for `wasm32-unknown-unknown` (`thalo build <dir>` does it).
#[macro_export]
macro_rules! export_aggregate {
    ($t:ty) => {
        const _: () = {
            #[allow(unused_imports)]
            use $crate::__private::{NoSnapshots as _, ViaSerde as _};

            static mut TABLE: $crate::__private::Table<$t> = $crate::__private::Table::new();

            fn table() -> &'static mut $crate::__private::Table<$t> {
                // Safety: a module instance is single-threaded and the host never overlaps calls.
                unsafe { &mut TABLE }
            }

            fn snapshots() -> ::core::option::Option<$crate::__private::SnapshotFns<$t>> {
                (&&$crate::__private::SnapshotProbe::<$t>::new()).snapshot_fns()
            }

            #[no_mangle]
            pub extern "C" fn thalo_abi_version() -> i32 {
                1
            }

            #[no_mangle]
            pub extern "C" fn thalo_alloc(len: i32) -> i32 {
                $crate::__private::alloc(len)
            }

            #[no_mangle]
            pub extern "C" fn thalo_free(ptr: i32, len: i32) {
                $crate::__private::free(ptr, len)
            }

            #[no_mangle]
            pub extern "C" fn thalo_describe() -> i64 {
                $crate::__private::describe::<$t>(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
            }

            #[no_mangle]
            pub extern "C" fn thalo_new(id_ptr: i32, id_len: i32) -> i32 {
                $crate::__private::new(table(), id_ptr, id_len)
            }

            #[no_mangle]
            pub extern "C" fn thalo_drop(handle: i32) {
                table().remove(handle);
            }

            #[no_mangle]
            pub extern "C" fn thalo_apply(handle: i32, ptr: i32, len: i32) -> i32 {
                $crate::__private::apply(table(), handle, ptr, len)
            }

            #[no_mangle]
            pub extern "C" fn thalo_handle(handle: i32, ptr: i32, len: i32) -> i64 {
                $crate::__private::handle(table(), handle, ptr, len)
            }

            #[no_mangle]
            pub extern "C" fn thalo_snapshot(handle: i32) -> i64 {
                $crate::__private::snapshot(table(), handle, snapshots())
            }

            #[no_mangle]
            pub extern "C" fn thalo_restore(id_ptr: i32, id_len: i32, ptr: i32, len: i32) -> i32 {
                $crate::__private::restore(table(), id_ptr, id_len, ptr, len, snapshots())
            }

            /// Read by `thalo build`, which removes the snapshot exports when this is 0 (and this
            /// export in every case), so the host never asks a state without serde for snapshots.
            #[no_mangle]
            pub extern "C" fn thalo_rust_snapshots() -> i32 {
                snapshots().is_some() as i32
            }
        };
    };
}
