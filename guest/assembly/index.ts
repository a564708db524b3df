// The Thalo guest SDK for AssemblyScript. See docs/guest-sdk.md.
export { Aggregate, Command, Event, Outcome } from "./aggregate";
export { Fields } from "./fields";
export { Level, log } from "./log";
export { Obj } from "./obj";
export { Bytes, Writer } from "./msgpack";
export { Reader } from "./reader";
export { register } from "./registry";
