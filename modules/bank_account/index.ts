// A bank account: opened once, then deposits and withdrawals that never overdraw it.
import { Aggregate, Command, Event, Obj, Outcome, register } from "thalo-node/guest";
export * from "thalo-node/guest/exports";

// Commands, decoded from their payloads.
@data class OpenAccount { initial_balance: i64 = 0; }
@data class Deposit { amount: i64 = 0; }
@data class Withdraw { amount: i64 = 0; }

// Events: read when applied, written when emitted.
@data class AccountOpened { initial_balance: i64 = 0; }
@data class Deposited { amount: i64 = 0; }
@data class Withdrawn { amount: i64 = 0; }

@data class BankAccount extends Aggregate {
  open: bool = false;
  balance: i64 = 0;

  handle(command: Command, out: Outcome): void {
    if (command.is("OpenAccount")) {
      const open = command.decode<OpenAccount>();
      if (this.open) out.reject("ACCOUNT_ALREADY_OPEN", "the account is already open");
      else if (open.initial_balance < 0) out.reject("INVALID_AMOUNT", "initial_balance must not be negative");
      else out.emit("AccountOpened", new AccountOpened(open.initial_balance));
    } else if (command.is("Deposit")) {
      const deposit = command.decode<Deposit>();
      if (this.mayMove(deposit.amount, out)) out.emit("Deposited", new Deposited(deposit.amount));
    } else if (command.is("Withdraw")) {
      const withdraw = command.decode<Withdraw>();
      if (!this.mayMove(withdraw.amount, out)) return;
      if (withdraw.amount > this.balance) {
        const message = "cannot withdraw " + withdraw.amount.toString() + " from a balance of " + this.balance.toString();
        out.reject("INSUFFICIENT_FUNDS", message, new Obj().int("balance", this.balance).int("requested", withdraw.amount));
      } else out.emit("Withdrawn", new Withdrawn(withdraw.amount));
    }
  }

  /** Money moves only in an open account and in positive amounts; otherwise reject. */
  private mayMove(amount: i64, out: Outcome): bool {
    if (!this.open) out.reject("ACCOUNT_NOT_OPEN", "the account is not open");
    else if (amount <= 0) out.reject("INVALID_AMOUNT", "amount must be a positive integer");
    return !out.rejected;
  }

  apply(event: Event): void {
    if (event.is("AccountOpened")) {
      this.open = true;
      this.balance = event.decode<AccountOpened>().initial_balance;
    } else if (event.is("Deposited")) this.balance += event.decode<Deposited>().amount;
    else if (event.is("Withdrawn")) this.balance -= event.decode<Withdrawn>().amount;
  }
}

register(
  "bank_account",
  "1.0.0",
  ["OpenAccount", "Deposit", "Withdraw"],
  ["AccountOpened", "Deposited", "Withdrawn"],
  (id: string): Aggregate => new BankAccount(),
);
