// The counter aggregate: the original Thalo example.
import { Aggregate, Command, Event, Fields, Obj, Outcome, register } from "../../guest/assembly";
export * from "../../guest/assembly/exports";

class Counter extends Aggregate {
  count: i64 = 0;

  apply(event: Event): void {
    if (event.type == "Incremented") this.count += event.data.int("amount");
  }

  handle(command: Command, out: Outcome): void {
    if (command.name == "Increment") {
      const amount = command.data.int("amount");
      if (amount <= 0) out.reject("INVALID_AMOUNT", "amount must be a positive integer");
      else out.emit("Incremented", new Obj().int("amount", amount));
    }
  }

  snapshot(): Obj {
    return new Obj().int("count", this.count);
  }

  restore(state: Fields): void {
    this.count = state.int("count");
  }
}

register("counter", "1.0.0", ["Increment"], ["Incremented"], (id: string): Aggregate => new Counter());
