/**
 * Maps aggregate ids to shards, and shards to Piscina workers.
 *
 * One owner per aggregate (docs/architecture.md, "Routing"): an id always lands on the same shard, and a shard on the
 * same worker for as long as that worker lives, so a cached state is never shared between threads
 * and commands for one aggregate run in arrival order. When a worker dies its shard is handed to
 * the worker that replaces it (the one that owns no shard yet); the replacement starts with an
 * empty cache, so no stale state can survive the move.
 */
import { queueOptionsSymbol } from 'piscina';

/** FNV-1a over the UTF-16 code units: stable across processes and Node versions. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function shardOf(aggregate: string, id: string, shards: number): number {
  return hashKey(`${aggregate}/${id}`) % shards;
}

/** What we attach to every Piscina task so the balancer, which never sees the payload, can route it. */
export interface ShardQueueOptions {
  shard: number;
}

/** The subset of Piscina's worker interface the router reads. */
export interface RoutableWorker {
  readonly id: number;
  readonly terminating?: boolean;
  readonly destroyed?: boolean;
}

export class ShardRouter {
  /** shard → worker thread id */
  private readonly owners: (number | undefined)[];

  constructor(readonly shards: number) {
    this.owners = new Array<number | undefined>(shards).fill(undefined);
  }

  /** The task payload field Piscina hands to the balancer. */
  static tag(shard: number): { [queueOptionsSymbol]: ShardQueueOptions } {
    return { [queueOptionsSymbol]: { shard } };
  }

  /** The worker thread id that owns `shard`, if one does now. */
  ownerOf(shard: number): number | undefined {
    return this.owners[shard];
  }

  /**
   * Piscina `loadBalancer`. Returns the shard's owner; adopts an unowned worker for a shard whose
   * owner is gone. Returns null only while no live worker can take the shard (a replacement is
   * starting): Piscina keeps the task queued and asks again when a worker becomes ready. The
   * engine keeps at most one task in flight per shard, so a queued task cannot be overtaken.
   */
  balance<W extends RoutableWorker>(task: { [queueOptionsSymbol]?: unknown }, workers: readonly W[]): W | null {
    const { shard } = task[queueOptionsSymbol] as ShardQueueOptions;
    const live = workers.filter((w) => !w.terminating && !w.destroyed);
    const owner = this.owners[shard];
    if (owner !== undefined) {
      const worker = live.find((w) => w.id === owner);
      if (worker) return worker;
      this.owners[shard] = undefined;
    }
    const owned = new Set(this.owners.filter((id): id is number => id !== undefined && live.some((w) => w.id === id)));
    const free = live.find((w) => !owned.has(w.id));
    if (!free) return null;
    this.owners[shard] = free.id;
    return free;
  }

  /** Forget a worker (it died or was terminated): its shard goes to the next free worker. */
  release(workerId: number): void {
    for (let shard = 0; shard < this.shards; shard++) {
      if (this.owners[shard] === workerId) this.owners[shard] = undefined;
    }
  }
}
