// A bank account: opened once, then deposits and withdrawals that never overdraw it.
import { Aggregate, Command, Event, Fields, Obj, Outcome, register } from "../../guest/assembly";
export * from "../../guest/assembly/exports";

class BankAccount extends Aggregate {
  open: bool = false;
  balance: i64 = 0;

  apply(event: Event): void {
    if (event.type == "AccountOpened") {
      this.open = true;
      this.balance = event.data.int("initial_balance");
    } else if (event.type == "Deposited") this.balance += event.data.int("amount");
    else if (event.type == "Withdrawn") this.balance -= event.data.int("amount");
  }

  handle(command: Command, out: Outcome): void {
    if (command.name == "OpenAccount") {
      const initial = command.data.int("initial_balance");
      if (this.open) out.reject("ACCOUNT_ALREADY_OPEN", "the account is already open");
      else if (initial < 0) out.reject("INVALID_AMOUNT", "initial_balance must not be negative");
      else out.emit("AccountOpened", new Obj().int("initial_balance", initial));
      return;
    }
    const amount = command.data.int("amount");
    if (!this.open) out.reject("ACCOUNT_NOT_OPEN", "the account is not open");
    else if (amount <= 0) out.reject("INVALID_AMOUNT", "amount must be a positive integer");
    else if (command.name == "Deposit") out.emit("Deposited", new Obj().int("amount", amount));
    else if (command.name == "Withdraw") {
      if (amount > this.balance) out.reject("INSUFFICIENT_FUNDS", "cannot withdraw " + amount.toString() + " from a balance of " + this.balance.toString());
      else out.emit("Withdrawn", new Obj().int("amount", amount));
    }
  }

  snapshot(): Obj {
    return new Obj().bool("open", this.open).int("balance", this.balance);
  }

  restore(state: Fields): void {
    this.open = state.bool("open");
    this.balance = state.int("balance");
  }
}

register(
  "bank_account",
  "1.0.0",
  ["OpenAccount", "Deposit", "Withdraw"],
  ["AccountOpened", "Deposited", "Withdrawn"],
  (id: string): Aggregate => new BankAccount(),
);
