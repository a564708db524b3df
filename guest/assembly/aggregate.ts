// The surface an aggregate is written against: commands in, events out, state changed by events.
import { Fields } from "./fields";
import { Obj } from "./obj";

/** The message for a name `is` was asked about that the module never registered (a typo). */
function unregistered(what: string, name: string, names: string[]): string {
  return what + '.is("' + name + '"): the module registers no ' + what + " " + name + " (it registers " + names.join(", ") + ")";
}

/**
 * A stored event handed to `apply`. Test it with `is("Incremented")` and read it with
 * `data.int("amount")`, or decode it into a `@data` class with `decode<Incremented>()`.
 */
export class Event {
  /** The registered event types, for `is` to tell a typo from another type. */
  names: string[] = [];
  /** The first name `is` was asked about that is not registered ("" when none). */
  fault: string = "";

  constructor(public type: string, public data: Fields) {}

  /** True for events of `type`; a `type` the module does not register fails the call (a typo). */
  is(type: string): bool {
    if (this.type == type) return true;
    if (this.fault.length == 0 && !this.names.includes(type)) this.fault = unregistered("event", type, this.names);
    return false;
  }

  /** The data read into a new `T` (a `@data` class, or any class with `read(data: Fields)`). */
  decode<T>(): T {
    if (!isReference<T>() || !isDefined(changetype<T>(0).read)) {
      ERROR("event.decode<T>(): T must be a @data class (or have a method read(data: Fields): void)");
    }
    const value = instantiate<T>();
    value.read(this.data);
    return value;
  }
}

/**
 * A command handed to `handle`. Its payload's problems (a missing field, a string where a number
 * belongs) turn into an `INVALID_PAYLOAD` rejection after `handle` returns.
 */
export class Command {
  /** The registered command names, for `is` to tell a typo from another command. */
  names: string[] = [];
  /** The first name `is` was asked about that is not registered ("" when none). */
  fault: string = "";

  constructor(public name: string, public data: Fields) {}

  /** True for the command `name`; a `name` the module does not register fails the call (a typo). */
  is(name: string): bool {
    if (this.name == name) return true;
    if (this.fault.length == 0 && !this.names.includes(name)) this.fault = unregistered("command", name, this.names);
    return false;
  }

  /** The payload read into a new `T` (a `@data` class, or any class with `read(data: Fields)`). */
  decode<T>(): T {
    if (!isReference<T>() || !isDefined(changetype<T>(0).read)) {
      ERROR("command.decode<T>(): T must be a @data class (or have a method read(data: Fields): void)");
    }
    const value = instantiate<T>();
    value.read(this.data);
    return value;
  }
}

/** What `handle` decides: events to append, no events, or a rejection. */
export class Outcome {
  types: string[] = [];
  data: Obj[] = [];
  rejected: bool = false;
  /** True once `emit`, `noEvents` or `reject` was called: `handle` must decide. */
  decided: bool = false;
  code: string = "";
  message: string = "";
  /** The rejection's data, for the caller (`error.data.data`), or null. */
  details: Obj | null = null;

  /** Forget the previous call's decision (the SDK reuses one `Outcome`). */
  reset(): void {
    this.types.length = 0;
    this.data.length = 0;
    this.rejected = false;
    this.decided = false;
    this.code = "";
    this.message = "";
    this.details = null;
  }

  /**
   * Emit an event: `data` is a `@data` event class (`new Reserved(sku, 2)`), or an `Obj`
   * (`new Obj().int("amount", 5)`). Ignored after `reject`.
   */
  emit<T>(type: string, data: T): void {
    if (!isReference<T>() || isString<T>() || isArray<T>()) {
      ERROR("out.emit(type, data): data must be a @data event class or an Obj, not a number, string or array");
    }
    if (!(data instanceof Obj) && !isDefined(data.write)) {
      ERROR("out.emit(type, data): data's class must be declared @data (or have a method write(data: Obj): void)");
    }
    this.decided = true;
    if (this.rejected) return;
    this.types.push(type);
    if (data instanceof Obj) this.data.push(data);
    else {
      const obj = new Obj();
      data.write(obj);
      this.data.push(obj);
    }
  }

  /**
   * Decide that the command changes nothing: it succeeds and appends no events. `handle` that
   * returns without emitting, rejecting or calling this fails the command (`GUEST_FAULT`), so a
   * command that no branch of `handle` recognised cannot pass for a success.
   */
  noEvents(): void {
    this.decided = true;
  }

  /**
   * Reject the command with a stable code, a message for people and, if useful, data for programs
   * (`new Obj().int("balance", 75)`). Events emitted before are dropped.
   */
  reject(code: string, message: string, details: Obj | null = null): void {
    this.decided = true;
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
 *
 * Declare the class `@data` and `thalo build` writes `snapshot` and `restore` from its fields;
 * otherwise write them yourself.
 */
export abstract class Aggregate {
  abstract apply(event: Event): void;
  abstract handle(command: Command, out: Outcome): void;
  /** The state as a map, for snapshots. */
  abstract snapshot(): Obj;
  /** Set the state from a snapshot's map (the state is fresh from `create`). */
  abstract restore(state: Fields): void;
}
