// Logging through the one import the ABI allows besides abort: thalo.log(level, ptr, len).
// The host hands lines to the runtime's logger, and quotes the last error line in the fault it
// raises when a call fails, so a module can say why (the SDK does, for unreadable events).

// @ts-ignore: decorator
@external("thalo", "log")
declare function thaloLog(level: i32, ptr: usize, len: i32): void;

export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/** Log a line: `log(Level.Info, "opened " + id)`. */
export function log(level: Level, message: string): void {
  const bytes = String.UTF8.encode(message);
  thaloLog(level, changetype<usize>(bytes), bytes.byteLength);
}
