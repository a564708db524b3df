// The surface an aggregate is written against: commands in, events out, state changed by events.
import { Fields } from "./fields";
import { Obj } from "./obj";

/**
 * A stored event handed to `apply`. Test it with `is("Incremented")` and read it with
 * `data.int("amount")`, or decode it into a typed class with `decode<Incremented>()`.
 */
export class Event {
  constructor(public type: string, public data: Fields) {}

  is(type: string): bool {
    return this.type == type;
  }

  /** The data read into a new `T` (a class with a no-argument constructor and `read(data: Fields)`). */
  decode<T>(): T {
    const value = instantiate<T>();
    // @ts-ignore: asc resolves T's read() when it instantiates the generic; tsc cannot see it
    value.read(this.data);
    return value;
  }
}

/**
 * A command handed to `handle`. Its payload's problems (a missing field, a string where a number
 * belongs) turn into an `INVALID_PAYLOAD` rejection after `handle` returns.
 */
export class Command {
  constructor(public name: string, public data: Fields) {}

  is(name: string): bool {
    return this.name == name;
  }

  /** The payload read into a new `T` (a class with a no-argument constructor and `read(data: Fields)`). */
  decode<T>(): T {
    const value = instantiate<T>();
    // @ts-ignore: asc resolves T's read() when it instantiates the generic; tsc cannot see it
    value.read(this.data);
    return value;
  }
}

/** What `handle` decides: events to append, or a rejection. */
export class Outcome {
  types: string[] = [];
  data: Obj[] = [];
  rejected: bool = false;
  code: string = "";
  message: string = "";
  /** The rejection's data, for the caller (`error.data.data`), or null. */
  details: Obj | null = null;

  /** Forget the previous call's decision (the SDK reuses one `Outcome`). */
  reset(): void {
    this.types.length = 0;
    this.data.length = 0;
    this.rejected = false;
    this.code = "";
    this.message = "";
    this.details = null;
  }

  /**
   * Emit an event: `data` is an `Obj` (`new Obj().int("amount", 5)`) or a typed event class with
   * `write(data: Obj)`. Ignored after `reject`.
   */
  emit<T>(type: string, data: T): void {
    if (this.rejected) return;
    this.types.push(type);
    if (data instanceof Obj) this.data.push(data);
    else {
      const obj = new Obj();
      // @ts-ignore: asc resolves T's write() when it instantiates the generic; tsc cannot see it
      data.write(obj);
      this.data.push(obj);
    }
  }

  /**
   * Reject the command with a stable code, a message for people and, if useful, data for programs
   * (`new Obj().int("balance", 75)`). Events emitted before are dropped.
   */
  reject(code: string, message: string, details: Obj | null = null): void {
    this.rejected = true;
    this.code = code;
    this.message = message;
    this.details = details;
    this.types.length = 0;
    this.data.length = 0;
  }
}

/**
 * An aggregate: its state, how events change it, and how it decides on commands. `handle` must
 * not change the state; the runtime calls `apply` with the events once they are stored, and
 * again with the same events whenever it rebuilds the state.
 */
export abstract class Aggregate {
  abstract apply(event: Event): void;
  abstract handle(command: Command, out: Outcome): void;
  /** The state as a map, for snapshots. */
  abstract snapshot(): Obj;
  /** Set the state from a snapshot's map (the state is fresh from `create`). */
  abstract restore(state: Fields): void;
}
