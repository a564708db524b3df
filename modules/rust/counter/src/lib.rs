//! The counter in Rust: the same commands, events, rejections and snapshot as the AssemblyScript
//! one in modules/counter, so the same tests run against both and either rebuilds the other's
//! events. Inline commands (one `Handle` for the enum), external events (one `Apply` per event).
use serde::{Deserialize, Serialize};
use thalo::{events, export_aggregate, Aggregate, Apply, Command, Event, Handle, Rejection};

export_aggregate!(Counter);

/// Serialize and Deserialize give the module snapshots (`{ "count": n }`).
#[derive(Serialize, Deserialize)]
pub struct Counter {
    count: i64,
}

impl Aggregate for Counter {
    type Command = CounterCommand;
    type Event = CounterEvent;

    fn init(_id: String) -> Self {
        Counter { count: 0 }
    }
}

#[derive(Command, Deserialize)]
pub enum CounterCommand {
    Increment { amount: i64 },
}

impl Handle<CounterCommand> for Counter {
    type Error = Rejection;

    fn handle(&self, cmd: CounterCommand) -> Result<Vec<CounterEvent>, Rejection> {
        match cmd {
            CounterCommand::Increment { amount } if amount <= 0 => {
                Err(Rejection::new("INVALID_AMOUNT", "amount must be a positive integer"))
            }
            CounterCommand::Increment { amount } => events![Incremented { amount }],
        }
    }
}

#[derive(Event, Serialize, Deserialize)]
pub enum CounterEvent {
    Incremented(Incremented),
}

#[derive(Serialize, Deserialize)]
pub struct Incremented {
    pub amount: i64,
}

impl Apply<Incremented> for Counter {
    fn apply(&mut self, event: Incremented) {
        self.count += event.amount;
    }
}
