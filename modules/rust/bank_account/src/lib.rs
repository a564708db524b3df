//! A bank account in Rust: opened once, then deposits and withdrawals that never overdraw it.
//! The same commands, events, rejection codes and snapshot as the AssemblyScript one in
//! modules/bank_account. External commands (one struct and one `Handle` each), inline events
//! (one `Apply` for the enum), and a rejection that carries data.
use serde::{Deserialize, Serialize};
use thalo::{events, export_aggregate, Aggregate, Apply, Command, Event, Handle, Rejection};

export_aggregate!(BankAccount);

#[derive(Serialize, Deserialize)]
pub struct BankAccount {
    open: bool,
    balance: i64,
}

impl Aggregate for BankAccount {
    type Command = BankAccountCommand;
    type Event = BankAccountEvent;

    fn init(_id: String) -> Self {
        BankAccount { open: false, balance: 0 }
    }
}

#[derive(Command, Deserialize)]
pub enum BankAccountCommand {
    OpenAccount(OpenAccount),
    Deposit(Deposit),
    Withdraw(Withdraw),
}

#[derive(Deserialize)]
pub struct OpenAccount {
    initial_balance: i64,
}

#[derive(Deserialize)]
pub struct Deposit {
    amount: i64,
}

#[derive(Deserialize)]
pub struct Withdraw {
    amount: i64,
}

#[derive(Event, Serialize, Deserialize)]
pub enum BankAccountEvent {
    AccountOpened { initial_balance: i64 },
    Deposited { amount: i64 },
    Withdrawn { amount: i64 },
}

/// Why a command is refused; each becomes a rejection code the caller sees.
pub enum BankError {
    AlreadyOpen,
    NotOpen,
    InvalidAmount(&'static str),
    InsufficientFunds { balance: i64, requested: i64 },
}

#[derive(Serialize)]
struct Shortfall {
    balance: i64,
    requested: i64,
}

impl From<BankError> for Rejection {
    fn from(error: BankError) -> Self {
        match error {
            BankError::AlreadyOpen => Rejection::new("ACCOUNT_ALREADY_OPEN", "the account is already open"),
            BankError::NotOpen => Rejection::new("ACCOUNT_NOT_OPEN", "the account is not open"),
            BankError::InvalidAmount(message) => Rejection::new("INVALID_AMOUNT", message),
            BankError::InsufficientFunds { balance, requested } => Rejection::new(
                "INSUFFICIENT_FUNDS",
                format!("cannot withdraw {} from a balance of {}", requested, balance),
            )
            .with_data(&Shortfall { balance, requested }),
        }
    }
}

impl BankAccount {
    /// Money moves only in an open account and in positive amounts.
    fn may_move(&self, amount: i64) -> Result<(), BankError> {
        if !self.open {
            Err(BankError::NotOpen)
        } else if amount <= 0 {
            Err(BankError::InvalidAmount("amount must be a positive integer"))
        } else {
            Ok(())
        }
    }
}

impl Handle<OpenAccount> for BankAccount {
    type Error = BankError;

    fn handle(&self, cmd: OpenAccount) -> Result<Vec<BankAccountEvent>, BankError> {
        if self.open {
            return Err(BankError::AlreadyOpen);
        }
        if cmd.initial_balance < 0 {
            return Err(BankError::InvalidAmount("initial_balance must not be negative"));
        }
        events![BankAccountEvent::AccountOpened {
            initial_balance: cmd.initial_balance
        }]
    }
}

impl Handle<Deposit> for BankAccount {
    type Error = BankError;

    fn handle(&self, cmd: Deposit) -> Result<Vec<BankAccountEvent>, BankError> {
        self.may_move(cmd.amount)?;
        events![BankAccountEvent::Deposited { amount: cmd.amount }]
    }
}

impl Handle<Withdraw> for BankAccount {
    type Error = BankError;

    fn handle(&self, cmd: Withdraw) -> Result<Vec<BankAccountEvent>, BankError> {
        self.may_move(cmd.amount)?;
        if cmd.amount > self.balance {
            return Err(BankError::InsufficientFunds {
                balance: self.balance,
                requested: cmd.amount,
            });
        }
        events![BankAccountEvent::Withdrawn { amount: cmd.amount }]
    }
}

impl Apply<BankAccountEvent> for BankAccount {
    fn apply(&mut self, event: BankAccountEvent) {
        match event {
            BankAccountEvent::AccountOpened { initial_balance } => {
                self.open = true;
                self.balance = initial_balance;
            }
            BankAccountEvent::Deposited { amount } => self.balance += amount,
            BankAccountEvent::Withdrawn { amount } => self.balance -= amount,
        }
    }
}
