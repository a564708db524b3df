/**
 * An example projection: the balance of every bank account, kept in a JSON read model.
 *
 * The projection is at-least-once, so after a crash the batch in flight is delivered again. The
 * read model stays exact anyway: it stores the last position it applied next to the balances and
 * ignores events at or before it. Writing the file under a temporary name and renaming it makes
 * each update all-or-nothing.
 *
 * Rebuild from scratch: delete the file and `projection.reset()`.
 *
 * In a process of your own: `projectBalances(new Consumers(engine.log), './bank-balances.json')`. In
 * `thalo-runtime`: `--projection dist/examples/bank-balances-runtime.js` (see that file).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Consumers, ExecutedEvent, Projection, ProjectionDefinition } from '../src/index.js';

export interface Balances {
  /** The last log position applied. */
  position: number;
  balances: Record<string, number>;
}

export function readBalances(file: string): Balances {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Balances) : { position: 0, balances: {} };
}

/** Apply bank_account events to a balances map (pure: also used to check the read model). */
export function applyBalances(model: Balances, events: ExecutedEvent[]): Balances {
  for (const event of events) {
    if (event.position <= model.position) continue;
    const id = event.stream.slice('bank_account-'.length);
    const data = event.data as { initial_balance?: number; amount?: number };
    if (event.type === 'AccountOpened') model.balances[id] = data.initial_balance ?? 0;
    else if (event.type === 'Deposited') model.balances[id] = (model.balances[id] ?? 0) + (data.amount ?? 0);
    else if (event.type === 'Withdrawn') model.balances[id] = (model.balances[id] ?? 0) - (data.amount ?? 0);
    model.position = event.position;
  }
  return model;
}

/** The projection that keeps `file` up to date with the balances of every bank account. */
export function balancesProjection(file: string, name = 'bank-balances'): ProjectionDefinition {
  return {
    name,
    handle: (events, { position }) => {
      const model = applyBalances(readBalances(file), events);
      model.position = Math.max(model.position, position);
      writeFileSync(`${file}.tmp`, JSON.stringify(model));
      renameSync(`${file}.tmp`, file);
    },
    options: { filter: { aggregates: ['bank_account'] } },
  };
}

/** Run the balances projection among `consumers`. */
export function projectBalances(consumers: Consumers, file: string, name = 'bank-balances'): Projection {
  const { handle, options } = balancesProjection(file, name);
  return consumers.project(name, handle, options);
}
