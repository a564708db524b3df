/**
 * The projection of the torture test: a remote subscriber that keeps the bank balances read model
 * (`applyBalances` from examples/bank-balances.ts) in this process, fed by
 * `GET /v1/subscribe?subscriber=<name>` and checkpointed with `POST /v1/subscribers/<name>/ack`.
 *
 * Across each SIGKILL it reconnects WITHOUT Last-Event-ID, so the runtime resumes it from the
 * checkpoint it stored: replays (events after the last ack that it had already applied) are
 * allowed and skipped by position, skips are not. It also checks that the stored checkpoint was
 * durable: after a reconnect the first event is never at or before a position whose ack the
 * runtime confirmed.
 */
import { applyBalances } from '../../examples/bank-balances.js';
import type { Balances } from '../../examples/bank-balances.js';
import { readServerSentEvents } from '../../src/client/index.js';
import type { ExecutedEvent } from '../../src/index.js';
import { request } from '../server/runtime-process.js';
import type { Generation, RuntimeUnderTest } from './runtime-under-test.js';

const BANK = 'bank_account-';

export class BalanceSubscriber {
  readonly model: Balances = { position: 0, balances: {} };
  /** The last position applied (of any aggregate). */
  applied = 0;
  /** The highest position whose ack the runtime answered with 200. */
  acked = 0;
  received = 0;
  replayed = 0;
  connections = 0;
  readonly problems: string[] = [];
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private generation: Generation | undefined;
  private waiters: { position: number; resolve: () => void }[] = [];

  constructor(
    private readonly runtime: RuntimeUnderTest,
    readonly name: string,
    private readonly ackEveryMs = 200,
  ) {}

  start(): void {
    this.loop = this.run();
    this.ackTimer = setInterval(() => void this.ack(), this.ackEveryMs);
  }

  /** Resolves once the model has applied `position`, or rejects after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<void> {
    if (this.applied >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { position, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        if (!this.waiters.includes(waiter)) return;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `the subscriber ${this.name} reached position ${this.applied} of ${position} within ${timeoutMs} ms; problems: ${this.problems.join('; ')}`,
          ),
        );
      }, timeoutMs).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ackTimer);
    this.abort?.abort();
    await this.loop;
    await this.ack();
  }

  private async run(): Promise<void> {
    let generation = await this.runtime.serving();
    while (!this.stopped) {
      try {
        await this.follow(generation);
      } catch (error) {
        if (this.stopped) return;
        void error;
      }
      if (this.stopped) return;
      generation = await this.runtime.retryTarget();
    }
  }

  /** One connection: read events until it ends. */
  private async follow(generation: Generation): Promise<void> {
    this.generation = generation;
    this.abort = new AbortController();
    const response = await fetch(`${generation.url}/v1/subscribe?subscriber=${encodeURIComponent(this.name)}&from=1`, {
      signal: this.abort.signal,
    });
    if (response.status !== 200) {
      this.problems.push(`GET /v1/subscribe?subscriber=${this.name} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 500));
      return;
    }
    this.connections++;
    const ackedBefore = this.acked;
    let first = true;
    for await (const message of readServerSentEvents(response.body!)) {
      if (message.data === undefined) continue;
      const event = JSON.parse(message.data) as ExecutedEvent;
      if (first) {
        first = false;
        if (event.position <= ackedBefore) {
          this.problems.push(
            `connection ${this.connections} started at position ${event.position}, but the runtime had confirmed the ack of ${ackedBefore}: the checkpoint was not kept`,
          );
        }
      }
      this.apply(event);
    }
  }

  private apply(event: ExecutedEvent): void {
    this.received++;
    if (event.position <= this.applied) {
      this.replayed++;
      return;
    }
    if (event.position !== this.applied + 1) {
      this.problems.push(
        `after position ${this.applied} the subscription delivered ${event.position}: ${event.position - this.applied - 1} events skipped`,
      );
    }
    if (event.stream.startsWith(BANK)) applyBalances(this.model, [event]);
    this.applied = event.position;
    for (const waiter of this.waiters.filter((w) => w.position <= this.applied)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** Store the checkpoint; a failed ack (the runtime is down) is tried again at the next tick. */
  private async ack(): Promise<void> {
    const position = this.applied;
    const generation = this.generation;
    if (!generation || position <= this.acked) return;
    try {
      const { status, body } = await request(`${generation.url}/v1/subscribers/${encodeURIComponent(this.name)}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ position }),
        signal: AbortSignal.timeout(10_000),
      });
      if (status === 200) this.acked = Math.max(this.acked, position);
      else if (this.problems.length < 50) this.problems.push(`ack of ${position} answered ${status} ${JSON.stringify(body).slice(0, 200)}`);
    } catch {
      // The generation is gone; the next connection acks again.
    }
  }
}
