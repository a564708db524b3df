/**
 * The runaway module (test/fixtures/runaway: `Loop` never returns) under load. Each round sends a
 * Loop, and while it spins, a bystander on the other shard keeps incrementing a counter and one
 * command waits behind the Loop on its own shard. The deadline must cost the Loop alone: it comes
 * back 504 COMMAND_TIMEOUT, the bystander is served meanwhile, and the command queued behind it is
 * served once the worker is replaced (retried there, since it carries a command id).
 */
import { shardOf } from '../../src/engine/shard-router.js';
import type { CommandLedger, SentCommand } from './command-ledger.js';

export interface RunawayRound {
  loop: SentCommand;
  /** Counter commands on the other shard, sent while the Loop ran. */
  bystanders: SentCommand[];
  /** A counter command on the Loop's shard, queued behind it. */
  behind: SentCommand;
}

/** An id of `aggregate` whose stream `shardOf` routes to `shard` (or away from it). */
function idOnShard(aggregate: string, prefix: string, shard: number, shards: number, same: boolean): string {
  for (let k = 0; ; k++) {
    const id = `${prefix}-${k}`;
    if ((shardOf(aggregate, id, shards) === shard) === same) return id;
  }
}

export async function runawayRound(ledger: CommandLedger, round: number, shards: number): Promise<RunawayRound> {
  const spinId = `spin-${round}`;
  const shard = shardOf('runaway', spinId, shards);
  const loop = ledger.create('runaway', spinId, 'Loop', {}, 'runaway');
  const looping = ledger.execute(loop);
  let done = false;
  void looping.finally(() => (done = true));
  // Give the Loop a head start so the other commands are sent while it spins.
  await new Promise((r) => setTimeout(r, 100));
  const behind = ledger.create(
    'counter',
    idOnShard('counter', `behind-${round}`, shard, shards, true),
    'Increment',
    { amount: 1 },
    'behind-runaway',
  );
  const behindDone = ledger.execute(behind);
  const bystanders: SentCommand[] = [];
  const free = idOnShard('counter', `bystander-${round}`, shard, shards, false);
  while (!done) {
    const sent = ledger.create('counter', free, 'Increment', { amount: 1 }, 'bystander');
    bystanders.push(sent);
    await ledger.execute(sent);
  }
  await Promise.all([looping, behindDone]);
  return { loop, bystanders, behind };
}
