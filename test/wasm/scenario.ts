/**
 * Given / when / then for aggregate modules, through the host wrapper:
 *
 *   expect(given(counter, ['Incremented', { amount: 2 }]).when('Increment', { amount: 3 }))
 *     .toEqual(emitted(['Incremented', { amount: 3 }]));
 *
 * Given events are packed with msgpack as the store would hold them; emitted event data is
 * unpacked for comparison.
 */
import { Packr } from 'msgpackr';
// As the host reads event data: integers of any width as numbers (src/json-values.ts).
import { unpackValue as unpack } from '../../src/json-values.js';
import type { AggregateHandle, AggregateInstance, AggregateModule, GuestEvent, HandleOutcome } from '../../src/wasm/index.js';

const packr = new Packr({ useRecords: false });

export type Then = { emitted: [string, unknown][] } | { rejected: string; message: string; data?: unknown };

export function emitted(...events: [string, unknown][]): Then {
  return { emitted: events };
}

export function rejected(code: string): { rejected: string } {
  return { rejected: code };
}

/** Stored events, as the engine hands them to `apply`. */
export function stored(...events: [string, unknown][]): GuestEvent[] {
  return events.map(([type, data]) => ({ type, data: packr.pack(data) }));
}

export function outcomeOf(outcome: HandleOutcome): Then {
  if (outcome.kind === 'rejected')
    return { rejected: outcome.code, message: outcome.message, ...(outcome.data === undefined ? {} : { data: outcome.data }) };
  return { emitted: outcome.events.map((e) => [e.type, unpack(e.data)]) };
}

export class Given {
  constructor(
    readonly instance: AggregateInstance,
    readonly handle: AggregateHandle,
  ) {}

  /** Decide on a command without applying its events. */
  when(command: string, payload: unknown): Then {
    return outcomeOf(this.instance.handle(this.handle, command, payload));
  }

  /** Decide on a command and, if accepted, apply its events (as the engine does after a commit). */
  accept(command: string, payload: unknown): GuestEvent[] {
    const outcome = this.instance.handle(this.handle, command, payload);
    if (outcome.kind !== 'events') throw new Error(`${command} was rejected: ${outcome.code} ${outcome.message}`);
    this.instance.apply(this.handle, outcome.events);
    return outcome.events;
  }

  snapshot(): unknown {
    return unpack(this.instance.snapshot(this.handle));
  }
}

/** A fresh state (in a fresh instance unless one is given) with `events` applied. */
export function given(module: AggregateModule | AggregateInstance, ...events: [string, unknown][]): Given {
  const instance = 'instantiate' in module ? module.instantiate() : module;
  const handle = instance.create('test');
  if (events.length > 0) instance.apply(handle, stored(...events));
  return new Given(instance, handle);
}
