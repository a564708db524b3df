/**
 * What the torture tests read back from a runtime once the clients have stopped: the whole global
 * log, page by page, and a value polled until it settles (relays and projections catch up
 * asynchronously).
 */
import { request } from '../server/runtime-process.js';
import type { LoggedEvent } from './log-checks.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The global log as `GET /v1/events` serves it, every page. */
export async function readLog(url: string): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  for (let from = 1; ;) {
    const page = await request(`${url}/v1/events?from=${from}&limit=10000`);
    if (page.status !== 200) throw new Error(`GET /v1/events answered ${page.status}: ${JSON.stringify(page.body)}`);
    if (page.body.events.length === 0) return events;
    events.push(...page.body.events);
    from = page.body.next;
  }
}

/** Poll `done` until it holds or `timeoutMs` passes; the last value either way. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}
