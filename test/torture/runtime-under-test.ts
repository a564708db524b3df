/**
 * The runtime the torture test works against: one data directory, a succession of `thalo-runtime`
 * processes on it ("generations"). The chaos loop SIGKILLs the current one and starts the next;
 * clients ask for the generation that serves now and, when a request dies with its process, wait
 * for the next one. A generation that exits without being killed by us is recorded (that is the
 * runtime crashing, which no input may cause) and replaced, so the run can go on and say so at the
 * end instead of hanging.
 */
import { sigkill } from '../crash-rounds.js';
import { startRuntime } from '../server/runtime-process.js';
import type { RuntimeProcess } from '../server/runtime-process.js';

export interface Generation {
  index: number;
  runtime: RuntimeProcess;
  url: string;
  /** Set once the process is gone: how it ended, and whether our SIGKILL (or SIGTERM) did it. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; byUs: boolean; lastLogs: string[] };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export class RuntimeUnderTest {
  readonly generations: Generation[] = [];
  private up = deferred<Generation>();
  private current: Generation | undefined;
  /** Start-ups and kills, one at a time: an unexpected exit during a kill must not start two. */
  private transitions: Promise<unknown> = Promise.resolve();
  private stopping = false;
  /** The generations we signalled, with the signal: their exit is ours, not a crash. */
  private readonly signalled = new WeakMap<Generation, NodeJS.Signals>();

  constructor(
    private readonly root: { root: string; modules: string; data: string },
    private readonly args: string[],
    private readonly env?: Record<string, string>,
  ) {}

  /** Start the first generation. */
  start(): Promise<Generation> {
    return this.transition(() => this.launch());
  }

  /** The generation serving now; during a restart, the next one once it listens. */
  serving(): Promise<Generation> {
    return this.current ? Promise.resolve(this.current) : this.up.promise;
  }

  /**
   * After a request failed at the connection: the generation to try next, after a short pause. A
   * generation that is gone is no longer the serving one (see `crash` and `launch`), so this is
   * the next one once it listens, or the same one when the failure was the connection's alone.
   */
  async retryTarget(): Promise<Generation> {
    await new Promise((r) => setTimeout(r, 50));
    return this.serving();
  }

  /** True while a generation serves (not between a kill and the next one's start). */
  isUp(): boolean {
    return this.current !== undefined && this.current.exit === undefined;
  }

  /**
   * SIGKILL the serving generation and start the next on the same data directory, `downMs` after
   * the kill (a cluster node stays down a while, so that the others see it gone).
   */
  crash(downMs = 0): Promise<Generation> {
    return this.transition(async () => {
      const victim = this.current;
      if (victim && !victim.exit) {
        this.current = undefined;
        this.up = deferred();
        this.signalled.set(victim, 'SIGKILL');
        await sigkill(victim.runtime.child);
      }
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      return this.launch();
    });
  }

  /** SIGTERM the serving generation (a graceful stop) and resolve with its exit code. */
  stop(): Promise<number | null> {
    return this.transition(async () => {
      this.stopping = true;
      const victim = this.current;
      if (!victim || victim.exit) return null;
      this.current = undefined;
      this.up = deferred();
      this.signalled.set(victim, 'SIGTERM');
      return victim.runtime.stop('SIGTERM');
    });
  }

  /** Start a generation again after `stop()`, e.g. to rebuild from a cold start. */
  restart(): Promise<Generation> {
    return this.transition(async () => {
      this.stopping = false;
      return this.launch();
    });
  }

  /** No more restarts: the test is over, and its cleanup kills what still runs. */
  close(): void {
    this.stopping = true;
  }

  /** The generations that ended without our signal. */
  unexpectedExits(): Generation[] {
    return this.generations.filter((g) => g.exit !== undefined && !g.exit.byUs);
  }

  private transition<T>(step: () => Promise<T>): Promise<T> {
    const next = this.transitions.then(step);
    this.transitions = next.catch(() => undefined);
    return next;
  }

  private async launch(): Promise<Generation> {
    const runtime = await startRuntime({ root: this.root, args: this.args, ...(this.env ? { env: this.env } : {}) });
    const generation: Generation = { index: this.generations.length, runtime, url: runtime.url };
    this.generations.push(generation);
    void runtime.exited.then((code) => {
      const ours = this.signalled.get(generation);
      const signal = runtime.child.signalCode;
      generation.exit = {
        code,
        signal,
        byUs: ours !== undefined && (signal === ours || (ours === 'SIGTERM' && code === 0)),
        lastLogs: runtime.logs.slice(-20).map((line) => JSON.stringify(line)),
      };
      if (ours === undefined && !this.stopping) {
        // Crashed on its own: keep the run going on a new generation and let the checks tell.
        this.current = undefined;
        this.up = deferred();
        void this.transition(() => this.launch());
      }
    });
    this.current = generation;
    this.up.resolve(generation);
    return generation;
  }
}
