// The Thalo guest SDK for AssemblyScript. See docs/guest-sdk.md.
export { Aggregate, Command, Event, Fields, Obj, Outcome } from "./aggregate";
export { Reader, Writer } from "./msgpack";
export { register } from "./registry";
