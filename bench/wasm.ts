/**
 * `npm run bench:wasm`: handle + apply calls per second through the wasm host wrapper, for the
 * counter and bank_account examples, next to the same logic in plain TypeScript. The bar: at
 * least 500,000 counter commands per second through the wrapper on one core (exits 1 below it).
 * THALO_BENCH_MODULES points at another modules directory.
 *
 * The Rust counter (modules/rust, THALO_BENCH_RUST_MODULES) runs beside the AssemblyScript one,
 * with both module sizes. Its bars (issue 17): at least half the AssemblyScript counter's rate,
 * and at most 150 KB after `thalo build` shrank it (exits 1 when either is missed).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Packr } from 'msgpackr';
import { Bench } from 'tinybench';
import { loadModule } from '../src/wasm/index.js';
import type { HandleOutcome } from '../src/wasm/index.js';
import { describeMachine } from './machine.js';

const MODULES = resolve(process.env.THALO_BENCH_MODULES ?? 'modules');
const RUST_MODULES = resolve(process.env.THALO_BENCH_RUST_MODULES ?? 'modules/rust');
const BAR = 500_000;
const RUST_SIZE_BAR = 150 * 1024;

function accepted(outcome: HandleOutcome) {
  if (outcome.kind !== 'events') throw new Error(`rejected: ${outcome.code}`);
  return outcome.events;
}

const counter = (await loadModule(join(MODULES, 'counter.wasm'))).instantiate();
const bank = (await loadModule(join(MODULES, 'bank_account.wasm'))).instantiate();
const c = counter.create('bench');
const rustFile = join(RUST_MODULES, 'counter.wasm');
const rust = existsSync(rustFile) ? (await loadModule(rustFile)).instantiate() : undefined;
const r = rust?.create('bench');
const b = bank.create('bench');
bank.apply(b, accepted(bank.handle(b, 'OpenAccount', { initial_balance: 0 })));

// The same logic in plain TypeScript, for scale.
type CounterEvent = { type: 'Incremented'; amount: number };
const tsCounter = { count: 0 };
const tsHandle = (amount: number): CounterEvent[] => (amount > 0 ? [{ type: 'Incremented', amount }] : []);
const tsApply = (events: CounterEvent[]) => {
  for (const e of events) tsCounter.count += e.amount;
};
type BankEvent = { type: 'Deposited' | 'Withdrawn'; amount: number };
const tsBank = { open: true, balance: 0 };
const tsBankHandle = (command: 'Deposit' | 'Withdraw', amount: number): BankEvent[] | { code: string } => {
  if (!tsBank.open) return { code: 'ACCOUNT_NOT_OPEN' };
  if (amount <= 0) return { code: 'INVALID_AMOUNT' };
  if (command === 'Withdraw' && amount > tsBank.balance) return { code: 'INSUFFICIENT_FUNDS' };
  return [{ type: command === 'Deposit' ? 'Deposited' : 'Withdrawn', amount }];
};
const tsBankApply = (events: BankEvent[]) => {
  for (const e of events) tsBank.balance += e.type === 'Deposited' ? e.amount : -e.amount;
};

// The plain TypeScript counter again, paying for msgpack as the wasm path does (payload in,
// event data out and back): what the boundary costs beyond encoding.
const packr = new Packr({ useRecords: false });
const tsEncodedHandle = (payload: Uint8Array) => {
  const { amount } = packr.unpack(payload) as { amount: number };
  return amount > 0 ? [{ type: 'Incremented', data: packr.pack({ amount }) }] : [];
};
const tsEncodedApply = (events: { type: string; data: Uint8Array }[]) => {
  for (const e of events) tsCounter.count += (packr.unpack(e.data) as { amount: number }).amount;
};

const incremented = accepted(counter.handle(c, 'Increment', { amount: 1 }));
let i = 0;
const bench = new Bench({ time: 2_000, warmup: true });
bench
  .add('counter: wasm handle + apply', () => {
    counter.apply(c, accepted(counter.handle(c, 'Increment', { amount: 1 })));
  })
  .add('counter (Rust): wasm handle + apply', () => {
    if (rust) rust.apply(r!, accepted(rust.handle(r!, 'Increment', { amount: 1 })));
  })
  .add('counter: wasm handle only', () => {
    counter.handle(c, 'Increment', { amount: 1 });
  })
  .add('counter: wasm apply only (1 stored event)', () => {
    counter.apply(c, incremented);
  })
  .add('counter: plain TypeScript', () => {
    tsApply(tsHandle(1));
  })
  .add('counter: plain TypeScript + msgpack in and out', () => {
    tsEncodedApply(tsEncodedHandle(packr.pack({ amount: 1 })));
  })
  .add('bank_account: wasm handle + apply (deposit/withdraw)', () => {
    const command = i++ % 2 === 0 ? 'Deposit' : 'Withdraw';
    bank.apply(b, accepted(bank.handle(b, command, { amount: 5 })));
  })
  .add('bank_account: plain TypeScript', () => {
    const events = tsBankHandle(i++ % 2 === 0 ? 'Deposit' : 'Withdraw', 5);
    if (Array.isArray(events)) tsBankApply(events);
  });

console.log(describeMachine());
await bench.run();
let counterRate = 0;
let rustRate = 0;
for (const task of bench.tasks) {
  const result = task.result;
  const rate = 'throughput' in result ? result.throughput.mean : NaN;
  if (task.name === 'counter: wasm handle + apply') counterRate = rate;
  if (task.name === 'counter (Rust): wasm handle + apply') {
    rustRate = rate;
    if (!rust) continue;
  }
  console.log(`  ${task.name.padEnd(55)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} calls/s`);
}
const asSize = statSync(join(MODULES, 'counter.wasm')).size;
console.log(`  module size: counter (AssemblyScript) ${asSize.toLocaleString('en-US')} bytes`);
if (rust) {
  const rustSize = statSync(rustFile).size;
  console.log(`  module size: counter (Rust)           ${rustSize.toLocaleString('en-US')} bytes`);
  const ratio = rustRate / counterRate;
  const fast = ratio >= 0.5;
  const small = rustSize <= RUST_SIZE_BAR;
  console.log(
    `${fast ? 'ok' : 'below bar'}: the Rust counter runs at ${(ratio * 100).toFixed(0)}% of the AssemblyScript one's rate (bar 50%)`,
  );
  console.log(`${small ? 'ok' : 'over bar'}: the Rust counter takes ${(rustSize / 1024).toFixed(1)} KiB (bar 150 KiB)`);
  if (!fast || !small) process.exitCode = 1;
} else {
  console.log(
    `no Rust counter at ${rustFile}: npm run build:modules builds it when the Rust toolchain is installed (README, "Rust aggregates")`,
  );
}
console.log(
  counterRate >= BAR
    ? `ok: counter through the wrapper ${Math.round(counterRate)}/s (bar ${BAR})`
    : `below bar: counter through the wrapper ${Math.round(counterRate)}/s (bar ${BAR})`,
);
if (counterRate < BAR) process.exitCode = 1;
