// The public test kit (thalo-node/testing) on a module built from source by the kit itself: its
// assertions fail when they should, and the SDK's traps (a typo in is(), a command left without
// an outcome, a snapshot that does not restore) surface as failures the kit reports.
import { AssertionError } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAggregate, loadAggregate } from '../../src/testing/index.js';
import type { AggregateUnderTest } from '../../src/testing/index.js';

const root = mkdtempSync(join(tmpdir(), 'thalo-kit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Outside the repository on purpose: the SDK is imported from the package, as a user does.
const TRAPS = `
import { Aggregate, Command, Event, Fields, Outcome, register } from "thalo-node/guest";
export * from "thalo-node/guest/exports";

@data class Added { amount: i64 = 0; }

@data class Traps extends Aggregate {
  total: i64 = 0;
  handle(command: Command, out: Outcome): void {
    if (command.is("Add")) out.emit("Added", new Added(command.data.int("amount")));
    else if (command.is("Nothing")) out.noEvents();
    else if (command.is("Silent")) { /* forgot to decide */ }
    else if (command.is("Typoo")) out.noEvents();
  }
  apply(event: Event): void {
    if (event.is("Added")) this.total += event.decode<Added>().amount;
  }
  // Restores nothing: the kit's round trip must notice.
  restore(state: Fields): void {}
}

register("traps", "1.0.0", ["Add", "Nothing", "Silent", "Typo"], ["Added"], (id: string): Aggregate => new Traps());
`;

let traps: AggregateUnderTest;
beforeAll(async () => {
  mkdirSync(join(root, 'traps'));
  writeFileSync(join(root, 'traps', 'index.ts'), TRAPS);
  traps = await buildAggregate(join(root, 'traps'));
});

describe('thalo-node/testing', () => {
  it('passes what holds and fails, with an AssertionError naming both, what does not', () => {
    const state = traps.given(['Added', { amount: 2 }]);
    state.when('Add', { amount: 3 }).thenEvents(['Added', { amount: 3 }]);
    expect(state.history).toEqual([
      ['Added', { amount: 2 }],
      ['Added', { amount: 3 }],
    ]);
    expect(state.state()).toEqual({ total: 5 });
    expect(() => state.when('Add', { amount: 3 }).thenEvents(['Added', { amount: 4 }])).toThrow(AssertionError);
    expect(() => state.when('Add', { amount: 3 }).thenRejected('NOPE')).toThrow(
      /Add \{"amount":3\}: expected a rejection NOPE, got events/,
    );
    expect(() => state.when('Add', { amount: 'x' }).thenEvents()).toThrow(
      /got a rejection INVALID_PAYLOAD: Add: amount must be an integer/,
    );
    state.when('Nothing').thenNoEvents();
  });

  it('a command handle leaves without an outcome is a GUEST_FAULT naming it', () => {
    traps
      .given()
      .when('Silent')
      .thenFails('GUEST_FAULT', /Silent: handle decided nothing/);
  });

  it('is() with a name the module does not register is a GUEST_FAULT naming the typo', () => {
    traps.given().when('Typo').thenFails('GUEST_FAULT', 'command.is("Typoo"): the module registers no command Typoo');
  });

  it('snapshotRoundTrip fails on a state its snapshot does not restore', () => {
    const state = traps.given(['Added', { amount: 2 }]);
    expect(() => state.snapshotRoundTrip()).toThrow(/restored from its snapshot has another snapshot/);
  });

  it('refuses a snapshot or an event with a wrongly typed nested value, naming its path', async () => {
    const inventory = await loadAggregate('modules/inventory.wasm');
    const instance = inventory.module.instantiate();
    const snapshot = { on_hand: 5, average_cost: 1, lots: ['a'], reservations: { o1: 'two' }, discontinued: false };
    expect(() => instance.restore('x', pack(snapshot))).toThrow(/cannot restore the snapshot: reservations\.o1 must be an integer/);
    expect(() => instance.restore('x', pack({ ...snapshot, reservations: {}, lots: ['a', 5] }))).toThrow(/lots\[1\] must be a string/);
    expect(() => inventory.given(['StockReserved', { order_id: 'o', quantity: 1, lines: [{ sku: 'a', quantity: 1.5 }] }])).toThrow(
      /cannot apply StockReserved: lines\[0\]\.quantity must be an integer/,
    );
  });
});
