/**
 * A guest's `thalo.log` lines, limited per call.
 *
 * Every line a worker passes on crosses to the main thread and becomes a log record there, so a
 * guest that logged a million lines in one command stalled `/healthz` for 6 s, wrote 209 MB of
 * log and made SIGTERM wait 47–84 s for the backlog. So each guest call (one command's
 * `thalo_handle`, one `thalo_apply`, ...) may pass on `linesPerCall` lines of at most `lineBytes`
 * bytes each; a longer line is cut (and says so), later lines are counted without being decoded,
 * and one line after the call says how many were dropped. A dropped line costs the guest one
 * counter increment, so a runaway logger costs little more than a loop.
 */
import type { GuestLogger } from './guest-imports.js';

export interface GuestLogLimits {
  /** Lines passed on per guest call; later ones are dropped and counted. */
  linesPerCall: number;
  /** Bytes of a line passed on; the rest is cut. */
  lineBytes: number;
}

export const GUEST_LOG_LIMITS: Readonly<GuestLogLimits> = { linesPerCall: 100, lineBytes: 4096 };

export class GuestLog {
  private lines = 0;
  private dropped = 0;
  /** The last error-level (3) line passed on during the current call, quoted in `GUEST_FAULT`s. */
  lastError: string | undefined;

  constructor(
    private readonly sink: GuestLogger | undefined,
    private readonly file: string,
    private readonly limits: Readonly<GuestLogLimits> = GUEST_LOG_LIMITS,
  ) {}

  /** `thalo.log(level, ptr, len)`: a UTF-8 line at `[ptr, ptr + len)` of the guest's memory. */
  write(level: number, guestMemory: () => Uint8Array, ptr: number, len: number): void {
    if (this.lines >= this.limits.linesPerCall) {
      this.dropped++;
      return;
    }
    this.lines++;
    const memory = guestMemory();
    const start = Math.min(ptr >>> 0, memory.length);
    const length = Math.min(len >>> 0, memory.length - start);
    const shown = Math.min(length, this.limits.lineBytes);
    let message = Buffer.from(memory.buffer, memory.byteOffset + start, shown).toString('utf8');
    if (shown < length) message += ` [cut: the line has ${length} bytes, the first ${shown} are shown]`;
    if (level >= 3) this.lastError = message;
    this.sink?.(level, message, this.file);
  }

  /** Before a guest call: a fresh budget. */
  begin(): void {
    this.lines = 0;
    this.dropped = 0;
    this.lastError = undefined;
  }

  /** After a guest call (also one that trapped): say how many lines were dropped, if any. */
  end(): void {
    if (this.dropped === 0) return;
    const dropped = this.dropped;
    this.dropped = 0;
    this.sink?.(
      2,
      `${dropped} more log lines of this call were dropped: a module may log ${this.limits.linesPerCall} lines per call`,
      this.file,
    );
  }
}
