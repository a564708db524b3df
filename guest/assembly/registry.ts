// What the module's entry file registered: the aggregate it serves.
import { Aggregate } from "./aggregate";

export class Registration {
  name: string = "";
  version: string = "";
  commands: string[] = [];
  events: string[] = [];
  create: ((id: string) => Aggregate) | null = null;
}

export const registered = new Registration();

/** Declare the aggregate this module serves; call once, at the top level of the entry file. */
export function register(name: string, version: string, commands: string[], events: string[], create: (id: string) => Aggregate): void {
  registered.name = name;
  registered.version = version;
  registered.commands = commands;
  registered.events = events;
  registered.create = create;
}
