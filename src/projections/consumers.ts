/**
 * The running consumers of one event log, by name: the projections and relays a process runs.
 * The engine runs none of them (it only hands out the log, `engine.log`); the file that wires a
 * process (`src/cli/runtime.ts`) makes one `Consumers`, starts what it was asked to, and gives it
 * to the HTTP API, which lists and resets them.
 *
 * @example
 *   const consumers = new Consumers(engine.log);
 *   const audit = consumers.project('audit', (events) => { for (const e of events) console.log(e.position) });
 *   consumers.list().map((c) => c.info());   // [{ name: 'audit', status: 'running', position, lag, failures }]
 */
import { ThaloError } from '../errors.js';
import type { EventLog } from '../protocol/event-log.js';
import { Projection } from './projection.js';
import type { ProjectionHandler, ProjectionInfo, ProjectionOptions } from './types.js';

/** What `Consumers` keeps: a projection, or anything built on one (a relay). */
export interface Consumer {
  readonly name: string;
  readonly kind: 'projection' | 'relay';
  info(): ProjectionInfo;
  /** Replay from `position` + 1; resolves once the checkpoint is stored. */
  reset(position: number): Promise<void>;
  stop(): Promise<void>;
}

export class Consumers {
  private readonly running = new Map<string, Consumer>();
  private closed = false;

  constructor(readonly log: EventLog) {
    // Each consumer stops itself when the log closes; this only refuses new ones from then on.
    log.onClose(() => {
      this.closed = true;
    });
  }

  /**
   * Run `handler` over the log under checkpoint `name`, at least once per event: from the
   * checkpoint (or `options.from`) to the head, then live on each commit.
   *
   * @example
   *   consumers.project('balances', async (events) => { for (const e of events) apply(e) }, { filter: { aggregates: ['bank_account'] } });
   */
  project(name: string, handler: ProjectionHandler, options: ProjectionOptions = {}): Projection {
    return this.add(name, () => new Projection(name, handler, this.log, options));
  }

  /**
   * Throws `INVALID_ARGUMENT` when a consumer named `name` runs, and `ENGINE_STOPPED` once the
   * log closed. A stopped consumer's name is free again: starting it anew resumes its checkpoint.
   */
  checkName(name: string): void {
    if (this.closed) throw new ThaloError('ENGINE_STOPPED', 'the engine is stopping');
    if (typeof name !== 'string' || name.length === 0)
      throw new ThaloError('INVALID_ARGUMENT', `a consumer name must be a non-empty string, got ${JSON.stringify(name)}`);
    const existing = this.running.get(name);
    if (existing && existing.info().status !== 'stopped') {
      throw new ThaloError('INVALID_ARGUMENT', `a ${existing.kind} named ${JSON.stringify(name)} is already running`);
    }
  }

  /** Keep the consumer `start` builds under `name`; `start` runs only when the name is free. */
  add<T extends Consumer>(name: string, start: () => T): T {
    this.checkName(name);
    const consumer = start();
    this.running.set(name, consumer);
    return consumer;
  }

  /** The consumer named `name`, running or stopped, if any. */
  get(name: string): Consumer | undefined {
    return this.running.get(name);
  }

  /** Every consumer started here, in start order. */
  list(): Consumer[] {
    return [...this.running.values()];
  }

  /** Stop every consumer (each finishes its batch in hand and stores its checkpoint). */
  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((c) => c.stop()));
  }
}
