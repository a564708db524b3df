// The counter aggregate: the original Thalo example.
import { Aggregate, Command, Event, Outcome, register } from "thalo-node/guest";
export * from "thalo-node/guest/exports";

// The command and the event: @data derives reading, writing and a constructor from the fields.
@data class Increment { amount: i64 = 0; }
@data class Incremented { amount: i64 = 0; }

// The state: @data on the aggregate derives its snapshot and restore.
@data class Counter extends Aggregate {
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
}

register("counter", "1.0.0", ["Increment"], ["Incremented"], (id: string): Aggregate => new Counter());
