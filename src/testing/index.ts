/**
 * `thalo-node/testing`: test an aggregate module without the runtime, given / when / then, in
 * any test runner (vitest, `node:test`, jest: failures are `node:assert` AssertionErrors).
 *
 *   import { buildAggregate } from 'thalo-node/testing';
 *   const inventory = await buildAggregate('src/aggregates/inventory');   // or loadAggregate('x.wasm')
 *   inventory
 *     .given(['StockReceived', { quantity: 5, unit_cost: 2, lot: null }])
 *     .when('ReserveStock', { order_id: 'o1', lines: [{ sku: 'a', quantity: 9 }] })
 *     .thenRejected('OUT_OF_STOCK', { available: 5, requested: 9 });
 *
 * The module runs in the same host as in the runtime (src/wasm/), so what passes here is what the
 * runtime does: the same checks of results and payloads, the same faults. Given events are packed
 * with msgpack as the store holds them; emitted data is unpacked for comparison.
 */
import { AssertionError, deepStrictEqual } from 'node:assert/strict';
import { resolve } from 'node:path';
import { Packr, unpack } from 'msgpackr';
import { compileAggregate } from '../cli/build.js';
import { isThaloError } from '../errors.js';
import { loadModule } from '../wasm/index.js';
import type { AggregateHandle, AggregateInstance, AggregateModule, GuestEvent } from '../wasm/index.js';

const packr = new Packr({ useRecords: false });

/** An event as a test writes it: `['StockReceived', { quantity: 5 }]`. */
export type TestEvent = [type: string, data: unknown];

/** What a command came to: events (possibly none), a rejection, or a failure (a fault, a trap, …). */
export type TestOutcome =
  { events: TestEvent[] } | { rejected: { code: string; message: string; data: unknown } } | { failed: { code: string; message: string } };

/** Load a built module (`modules/inventory.wasm`) for testing. */
export async function loadAggregate(file: string): Promise<AggregateUnderTest> {
  return new AggregateUnderTest(await loadModule(file));
}

const built = new Map<string, Promise<AggregateUnderTest>>();

/**
 * Compile an AssemblyScript aggregate from its source directory (as `thalo build` does, in
 * memory) for testing; built once per directory and process. Throws `BUILD_FAILED` with the
 * compiler's message.
 */
export function buildAggregate(sourceDir: string): Promise<AggregateUnderTest> {
  const dir = resolve(sourceDir);
  let module = built.get(dir);
  if (module === undefined) {
    module = compileAggregate(dir).then(({ module }) => new AggregateUnderTest(module));
    built.set(dir, module);
    module.catch(() => built.delete(dir));
  }
  return module;
}

/** A module under test: each `given` starts a fresh state in a fresh instance. */
export class AggregateUnderTest {
  constructor(readonly module: AggregateModule) {}

  /** A fresh state of aggregate `test` with `events` applied, as a rebuild from the store would. */
  given(...events: TestEvent[]): Given {
    const instance = this.module.instantiate();
    const handle = instance.create('test');
    if (events.length > 0) instance.apply(handle, stored(events));
    return new Given(this, instance, handle, [...events]);
  }
}

function stored(events: TestEvent[]): GuestEvent[] {
  return events.map(([type, data]) => ({ type, data: packr.pack(data) }));
}

/** A state, and what has been applied to reach it. */
export class Given {
  constructor(
    readonly aggregate: AggregateUnderTest,
    readonly instance: AggregateInstance,
    readonly handle: AggregateHandle,
    /** The events applied so far, given or accepted. */
    readonly history: TestEvent[],
  ) {}

  /** Decide on a command. The state does not change until the outcome's `thenEvents`. */
  when(command: string, payload: unknown = {}): When {
    let outcome: TestOutcome;
    try {
      const result = this.instance.handle(this.handle, command, payload);
      outcome =
        result.kind === 'rejected'
          ? { rejected: { code: result.code, message: result.message, data: result.data ?? null } }
          : { events: result.events.map((e): TestEvent => [e.type, unpack(e.data)]) };
    } catch (error) {
      if (!isThaloError(error)) throw error;
      outcome = { failed: { code: error.code, message: error.message } };
    }
    return new When(this, command, payload, outcome);
  }

  /** The state as its snapshot holds it, decoded (`{ on_hand: 5, … }`). */
  state(): unknown {
    return unpack(this.instance.snapshot(this.handle));
  }

  /**
   * Check that the state survives a snapshot: restored from its own snapshot, and rebuilt from
   * the history alone, it has the same snapshot, and answers each of `probes` exactly as this
   * state does. Returns the decoded snapshot.
   */
  snapshotRoundTrip(...probes: [command: string, payload: unknown][]): unknown {
    const snapshot = this.instance.snapshot(this.handle);
    const expected = unpack(snapshot);
    const restored = new Given(this.aggregate, this.instance, this.instance.restore('test', snapshot), this.history);
    const replayed = this.aggregate.given(...this.history);
    deepStrictEqual(restored.state(), expected, 'the state restored from its snapshot has another snapshot');
    deepStrictEqual(replayed.state(), expected, 'the state rebuilt from its events has another snapshot');
    for (const [command, payload] of probes) {
      const outcome = this.when(command, payload).outcome;
      deepStrictEqual(restored.when(command, payload).outcome, outcome, `${command} decides otherwise on the restored state`);
      deepStrictEqual(replayed.when(command, payload).outcome, outcome, `${command} decides otherwise on the rebuilt state`);
    }
    return expected;
  }
}

function worded(outcome: TestOutcome): string {
  if ('events' in outcome) return `events ${JSON.stringify(outcome.events)}`;
  if ('rejected' in outcome) {
    const { code, message, data } = outcome.rejected;
    return `a rejection ${code}: ${message}${data === null ? '' : ` ${JSON.stringify(data)}`}`;
  }
  return `a failure ${outcome.failed.code}: ${outcome.failed.message}`;
}

/** A command's outcome, to check with one of the `then…` methods or read as `outcome`. */
export class When {
  constructor(
    readonly given: Given,
    readonly command: string,
    readonly payload: unknown,
    readonly outcome: TestOutcome,
  ) {}

  private fail(expected: string): never {
    throw new AssertionError({
      message: `${this.command} ${JSON.stringify(this.payload)}: expected ${expected}, got ${worded(this.outcome)}`,
      actual: this.outcome,
      expected,
      operator: 'then',
    });
  }

  /**
   * Expect exactly these events (types and data, in order), and apply them: the returned state
   * goes on with the next `when`.
   */
  thenEvents(...events: TestEvent[]): Given {
    if (!('events' in this.outcome)) this.fail(`events ${JSON.stringify(events)}`);
    deepStrictEqual(this.outcome.events, events, `${this.command} emitted other events`);
    this.given.instance.apply(this.given.handle, stored(events));
    this.given.history.push(...events);
    return this.given;
  }

  /** Expect success with no events. */
  thenNoEvents(): Given {
    return this.thenEvents();
  }

  /** Expect a rejection with `code` and, when given, exactly this `data` (null for none). */
  thenRejected(code: string, data?: unknown): { code: string; message: string; data: unknown } {
    if (!('rejected' in this.outcome) || this.outcome.rejected.code !== code) this.fail(`a rejection ${code}`);
    if (data !== undefined) deepStrictEqual(this.outcome.rejected.data, data, `${this.command}'s rejection ${code} carries other data`);
    return this.outcome.rejected;
  }

  /**
   * Expect a failure with `code` (`INVALID_PAYLOAD` and `UNKNOWN_COMMAND` are rejections by the
   * SDK or failures by the host; `GUEST_FAULT`, `GUEST_TRAP`), its message matching `message`.
   */
  thenFails(code: string, message?: string | RegExp): { code: string; message: string } {
    const actual = 'failed' in this.outcome ? this.outcome.failed : 'rejected' in this.outcome ? this.outcome.rejected : undefined;
    if (actual === undefined || actual.code !== code) this.fail(`a failure ${code}`);
    const matches =
      message === undefined || (typeof message === 'string' ? actual.message.includes(message) : message.test(actual.message));
    if (!matches) this.fail(`a failure ${code} saying ${String(message)}`);
    return actual;
  }
}
