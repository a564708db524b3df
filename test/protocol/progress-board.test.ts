/**
 * Issue 13, item 6: the watchdog's clock. After 24.86 days of uptime the time since the origin no
 * longer fits an Int32 slot, and a wall-clock jump moved every reading: both made every command
 * look overdue (spurious COMMAND_TIMEOUTs, workers killed).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressBoard, STEP_IDLE } from '../../src/protocol/progress-board.js';

const INT32_WRAP_MS = 2 ** 31;

/** A board on a clock the test moves; `at` is the uptime in ms when the board was made. */
function boardAt(at: number) {
  let now = 1_000_000 + at;
  const clock = () => now;
  const { buffer } = ProgressBoard.create(1, clock);
  // The engine makes the board at start; `origin` is that moment, `at` ms before `now`.
  const board = new ProgressBoard(buffer, 1_000_000, clock);
  return { board, advance: (ms: number) => (now += ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressBoard: time is wrap-proof', () => {
  for (const [label, uptime] of [
    ['just before 24.86 days of uptime (the step crosses the Int32 wrap)', INT32_WRAP_MS - 50],
    ['at 30 days', 30 * 24 * 3600 * 1000],
    ['past 49.7 days (a whole 2^32 wrap)', 2 ** 32 + 10],
  ] as const) {
    it(`measures a step's age exactly ${label}`, () => {
      const { board, advance } = boardAt(uptime);
      board.mark(0, 1, 0);
      expect(board.elapsed(board.read(0))).toBe(0);
      advance(100);
      expect(board.elapsed(board.read(0))).toBe(100);
      advance(6_000);
      expect(board.elapsed(board.read(0))).toBe(6_100);
    });
  }

  it('is not moved by a jump of the wall clock (NTP, an operator)', () => {
    const { buffer, origin } = ProgressBoard.create(1);
    const board = new ProgressBoard(buffer, origin);
    board.mark(0, 1, 0);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 25 * 24 * 3600 * 1000);
    expect(board.elapsed(board.read(0))).toBeLessThan(1_000);
    vi.setSystemTime(Date.now() - 50 * 24 * 3600 * 1000);
    expect(board.elapsed(board.read(0))).toBeGreaterThanOrEqual(0);
    expect(board.elapsed(board.read(0))).toBeLessThan(1_000);
  });

  it('starts every shard idle', () => {
    const { buffer, origin } = ProgressBoard.create(3);
    const board = new ProgressBoard(buffer, origin);
    expect([0, 1, 2].map((shard) => board.read(shard).step)).toEqual([STEP_IDLE, STEP_IDLE, STEP_IDLE]);
  });
});
