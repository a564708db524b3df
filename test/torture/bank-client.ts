/**
 * A client of the bank_account example that owns its accounts: nobody else writes to them, and it
 * sends one request at a time, so it knows the exact order of its acknowledged commands and
 * therefore every balance and version. Before each answer it knows which answer is right (a
 * withdrawal past the balance is rejected with INSUFFICIENT_FUNDS naming the balance; a stale
 * expected version is a conflict naming the actual one); an answer that disagrees is a surprise.
 *
 * The mix per step: deposits, withdrawals (some past the balance), deposits with a stale or the
 * exact expected version, small batches of those, and resends of an acknowledged command id.
 */
import type { CommandLedger, SentCommand } from './command-ledger.js';

export interface Account {
  id: string;
  /** Balance and stream version after the client's acknowledged commands, in order. */
  balance: number;
  version: number;
  /** The lowest balance the account ever had. */
  lowest: number;
}

interface Expectation {
  sent: SentCommand;
  account: Account;
  outcome: 'acknowledged' | 'rejected' | 'conflict';
  /** What the account is once the command is settled as expected. */
  balance: number;
  version: number;
}

/** A small seeded PRNG (mulberry32), so a run's choices can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class BankClient {
  readonly accounts: Account[];
  /** This client's acknowledged commands, in the order they were acknowledged. */
  readonly acknowledged: SentCommand[] = [];

  constructor(
    readonly index: number,
    private readonly ledger: CommandLedger,
    accountCount: number,
    private readonly random: () => number,
  ) {
    // Ids with characters a URL must escape, so the stream names travel through every layer.
    const shapes = (k: number) => [`c${index}-${k}`, `c${index} ü/${k}`, `c${index}.${k}?#%`][k % 3]!;
    this.accounts = Array.from({ length: accountCount }, (_, k) => ({
      id: shapes(k),
      balance: 0,
      version: 0,
      lowest: Number.POSITIVE_INFINITY,
    }));
  }

  /** Open the accounts, then run steps until `stopped()` says so. */
  async run(stopped: () => boolean): Promise<void> {
    for (const account of this.accounts) {
      const initial = this.amount(100) - 1;
      const sent = this.ledger.create('bank_account', account.id, 'OpenAccount', { initial_balance: initial }, 'open');
      await this.send([{ sent, account, outcome: 'acknowledged', balance: initial, version: 1 }]);
    }
    while (!stopped()) await this.step();
  }

  private amount(max: number): number {
    return 1 + Math.floor(this.random() * max);
  }

  private async step(): Promise<void> {
    const roll = this.random();
    if (roll < 0.06 && this.acknowledged.length > 0) {
      await this.ledger.resend(this.acknowledged[Math.floor(this.random() * this.acknowledged.length)]!);
      return;
    }
    // The batch's commands are planned against a view of the accounts that assumes each earlier
    // command of the batch went as expected; they run in order on the server too.
    const view = new Map(this.accounts.map((a) => [a.id, { balance: a.balance, version: a.version }]));
    const size = roll < 0.2 ? 2 + Math.floor(this.random() * 3) : 1;
    const plan = Array.from({ length: size }, () => this.plan(view));
    await this.send(plan, size > 1);
  }

  private plan(view: Map<string, { balance: number; version: number }>): Expectation {
    const account = this.accounts[Math.floor(this.random() * this.accounts.length)]!;
    const now = view.get(account.id)!;
    const roll = this.random();
    let expectation: Expectation;
    if (roll < 0.4) {
      const amount = this.amount(50);
      const sent = this.ledger.create('bank_account', account.id, 'Deposit', { amount }, 'deposit');
      expectation = { sent, account, outcome: 'acknowledged', balance: now.balance + amount, version: now.version + 1 };
    } else if (roll < 0.75) {
      // Up to 30 past the balance: about a third of withdrawals are overdrafts.
      const amount = this.amount(Math.max(1, now.balance) + 30);
      const fits = amount <= now.balance;
      const sent = this.ledger.create('bank_account', account.id, 'Withdraw', { amount }, fits ? 'withdraw' : 'overdraw');
      expectation = fits
        ? { sent, account, outcome: 'acknowledged', balance: now.balance - amount, version: now.version + 1 }
        : { sent, account, outcome: 'rejected', balance: now.balance, version: now.version };
    } else if (roll < 0.88) {
      const stale = Math.floor(this.random() * now.version);
      const sent = this.ledger.create('bank_account', account.id, 'Deposit', { amount: 1 }, 'stale', stale);
      expectation = { sent, account, outcome: 'conflict', balance: now.balance, version: now.version };
    } else {
      const amount = this.amount(20);
      const sent = this.ledger.create('bank_account', account.id, 'Deposit', { amount }, 'exact', now.version);
      expectation = { sent, account, outcome: 'acknowledged', balance: now.balance + amount, version: now.version + 1 };
    }
    view.set(account.id, { balance: expectation.balance, version: expectation.version });
    return expectation;
  }

  /** Send, then check each answer against what the client knew and move its accounts on. */
  private async send(plan: Expectation[], asBatch = false): Promise<void> {
    if (asBatch) await this.ledger.executeBatch(plan.map((e) => e.sent));
    else await this.ledger.execute(plan[0]!.sent);
    // A batch sent again after its answers were lost runs each of its commands again, and the
    // later commands that the first try committed are in the stream by then (they come back as
    // duplicates). So a command that the first try did not commit meets a later state than the
    // plan assumed: its outcome and its conflict's version may differ from the plan, and it may
    // be committed after commands planned behind it. Such a batch is checked by what must still
    // hold, and applied in the order the stream holds it. A single command sent again meets the
    // state it met the first time, so its answer must be exact. The runtime may also have run a
    // batch again itself: a cluster node whose forward of a sub-batch lost its answer runs it
    // there (src/cluster/forwarder.ts), and the commands the owner had committed come back as
    // duplicates. Such a batch is a replay too, though the client sent it once (seen in CI: a
    // stale deposit ahead of an exact one in one batch got a conflict naming the version after
    // the exact one).
    const replayed = asBatch && (plan[0]!.sent.attempts > 1 || plan.some((e) => e.sent.duplicate === true));
    const versionsBefore = new Map(plan.map((e) => [e.account, e.account.version]));
    const order = replayed ? [...plan].sort((a, b) => streamRank(a.sent) - streamRank(b.sent)) : plan;
    for (const { sent, account, outcome } of order) {
      const where = `client ${this.index}, account ${JSON.stringify(account.id)}, ${sent.command} ${JSON.stringify(sent.payload)} (${sent.intent}, command id ${sent.commandId})`;
      const actual = sent.data?.actual;
      if (replayed) {
        if (sent.outcome === 'rejected' && sent.code !== 'INSUFFICIENT_FUNDS')
          this.ledger.surprises.push(`${where}: rejected with ${sent.code}, not INSUFFICIENT_FUNDS`);
        if (sent.outcome === 'conflict' && !(typeof actual === 'number' && actual >= versionsBefore.get(account)!)) {
          this.ledger.surprises.push(
            `${where}: the conflict of a replayed batch says version ${JSON.stringify(actual)}, below the ${versionsBefore.get(account)} the client knew before it`,
          );
        }
      } else if (sent.outcome !== outcome) {
        this.ledger.surprises.push(
          `${where}: expected ${outcome}, got ${sent.outcome} ${sent.code ?? ''} ${JSON.stringify(sent.data ?? {})} at balance ${account.balance}, version ${account.version}`,
        );
      } else if (outcome === 'rejected' && (sent.code !== 'INSUFFICIENT_FUNDS' || sent.data?.balance !== account.balance)) {
        this.ledger.surprises.push(
          `${where}: expected INSUFFICIENT_FUNDS at balance ${account.balance}, got ${sent.code} ${JSON.stringify(sent.data)}`,
        );
      } else if (outcome === 'conflict' && actual !== account.version) {
        this.ledger.surprises.push(`${where}: the conflict says version ${JSON.stringify(actual)}, the client knows ${account.version}`);
      }
      if (sent.outcome !== 'acknowledged') continue;
      // Move on by what was acknowledged, not by the plan, so one surprise does not cascade.
      for (const event of sent.events) {
        const amount = Number(event.data.amount ?? event.data.initial_balance ?? 0);
        account.balance =
          event.type === 'Withdrawn' ? account.balance - amount : event.type === 'AccountOpened' ? amount : account.balance + amount;
      }
      if (sent.version !== account.version + sent.events.length) {
        this.ledger.surprises.push(
          `${where}: acknowledged at version ${sent.version}, the client expected ${account.version + sent.events.length}`,
        );
      }
      account.version = sent.version ?? account.version;
      account.lowest = Math.min(account.lowest, account.balance);
      this.acknowledged.push(sent);
    }
  }
}

/** Where a settled command sits in its stream: its version if it was committed, else last. */
function streamRank(sent: SentCommand): number {
  return sent.outcome === 'acknowledged' ? (sent.version ?? 0) : Number.POSITIVE_INFINITY;
}
