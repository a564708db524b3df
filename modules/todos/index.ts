// A todo list: string-heavy state with several event types. It reads fields straight from the
// payloads and builds event data with Obj, without typed classes (compare counter and bank_account).
import { Aggregate, Command, Event, Fields, Obj, Outcome, register } from "thalo-node/guest";
export * from "thalo-node/guest/exports";

class Todo {
  constructor(public title: string, public done: bool) {}
}

class Todos extends Aggregate {
  items: Map<string, Todo> = new Map();

  apply(event: Event): void {
    const id = event.data.str("id");
    if (event.type == "TodoAdded") this.items.set(id, new Todo(event.data.str("title"), false));
    else if (event.type == "TodoRenamed") this.items.get(id).title = event.data.str("title");
    else if (event.type == "TodoCompleted") this.items.get(id).done = true;
    else if (event.type == "TodoRemoved") this.items.delete(id);
  }

  handle(command: Command, out: Outcome): void {
    const id = command.data.str("id");
    if (id.length == 0) {
      out.reject("INVALID_TODO", "id must be a non-empty string");
      return;
    }
    const exists = this.items.has(id);
    if (command.name == "AddTodo") {
      const title = command.data.str("title");
      if (exists) out.reject("TODO_EXISTS", "todo " + id + " already exists");
      else if (title.length == 0) out.reject("INVALID_TODO", "title must be a non-empty string");
      else out.emit("TodoAdded", new Obj().str("id", id).str("title", title));
      return;
    }
    if (!exists) {
      out.reject("TODO_NOT_FOUND", "there is no todo " + id);
      return;
    }
    if (command.name == "RenameTodo") {
      const title = command.data.str("title");
      if (title.length == 0) out.reject("INVALID_TODO", "title must be a non-empty string");
      else out.emit("TodoRenamed", new Obj().str("id", id).str("title", title));
    } else if (command.name == "CompleteTodo") {
      if (this.items.get(id).done) out.reject("TODO_ALREADY_COMPLETED", "todo " + id + " is already completed");
      else out.emit("TodoCompleted", new Obj().str("id", id));
    } else if (command.name == "RemoveTodo") out.emit("TodoRemoved", new Obj().str("id", id));
  }

  snapshot(): Obj {
    const items = new Obj();
    const ids = this.items.keys();
    for (let i = 0; i < ids.length; i++) {
      const todo = this.items.get(ids[i]);
      items.obj(ids[i], new Obj().str("title", todo.title).bool("done", todo.done));
    }
    return new Obj().obj("items", items);
  }

  restore(state: Fields): void {
    const items = state.fields("items");
    const ids = items.keys;
    for (let i = 0; i < ids.length; i++) {
      const item = items.fields(ids[i]);
      this.items.set(ids[i], new Todo(item.str("title"), item.bool("done")));
    }
  }
}

register(
  "todos",
  "1.0.0",
  ["AddTodo", "RenameTodo", "CompleteTodo", "RemoveTodo"],
  ["TodoAdded", "TodoRenamed", "TodoCompleted", "TodoRemoved"],
  (id: string): Aggregate => new Todos(),
);
