// The counter aggregate: the original Thalo example.
import { Aggregate, Command, Event, Fields, Obj, Outcome, register } from "../../guest/assembly";
export * from "../../guest/assembly/exports";

// The command, decoded from its payload.
class Increment {
  amount: i64 = 0;
  read(data: Fields): void { this.amount = data.int("amount"); }
}

// The event: read when applied, written when emitted.
class Incremented {
  constructor(public amount: i64 = 0) {}
  read(data: Fields): void { this.amount = data.int("amount"); }
  write(data: Obj): void { data.int("amount", this.amount); }
}

class Counter extends Aggregate {
  count: i64 = 0;

  handle(command: Command, out: Outcome): void {
    if (command.is("Increment")) {
      const increment = command.decode<Increment>();
      if (increment.amount <= 0) out.reject("INVALID_AMOUNT", "amount must be a positive integer");
      else out.emit("Incremented", new Incremented(increment.amount));
    }
  }

  apply(event: Event): void {
    if (event.is("Incremented")) this.count += event.decode<Incremented>().amount;
  }

  snapshot(): Obj {
    return new Obj().int("count", this.count);
  }

  restore(state: Fields): void {
    this.count = state.int("count");
  }
}

register("counter", "1.0.0", ["Increment"], ["Incremented"], (id: string): Aggregate => new Counter());
