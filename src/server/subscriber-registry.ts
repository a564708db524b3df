/**
 * Remote subscribers: named consumers of the global log over the network, whose checkpoint the
 * runtime keeps for them (docs/http-api.md, "Remote subscribers").
 *
 * A subscriber reads the live subscription (`GET /v1/subscribe?subscriber=<name>`) and acks what
 * it has processed (`POST /v1/subscribers/<name>/ack`). The ack is stored in the event store as
 * checkpoint `subscriber:<name>` before it is answered, so a subscriber that connects again (after
 * its own crash, or the runtime's) starts right after the last position it acked: at least once,
 * like the in-process projections, whose checkpoints live in the same table without the prefix.
 *
 * The prefix keeps the two kinds apart in the store (a subscriber may be called like a stopped
 * projection without sharing its checkpoint) and lets the registry list every subscriber ever
 * acked with one range read. What is not stored is which subscribers are connected now: that
 * is the set of open streams kept here.
 *
 * Every name a client ever acked stayed for good, with a line in `/metrics` and in
 * `GET /v1/projections` each (10,000 names took `/metrics` to 582 KB). So names are capped
 * (`maxSubscribers`, counting stored and connected ones): a new name past the cap is refused
 * with `TOO_MANY_SUBSCRIBERS`, names already known keep working, and `delete` forgets one.
 */
import type { Consumers } from '../projections/index.js';
import type { EventLog } from '../protocol/event-log.js';
import { ApiError } from './api-errors.js';
import type { LogSubscription } from './log-subscription.js';

/** The default cap on remote subscriber names known at once. */
export const DEFAULT_MAX_SUBSCRIBERS = 1_000;

/** Where subscriber checkpoints live in the store's checkpoint table. */
export const SUBSCRIBER_CHECKPOINT_PREFIX = 'subscriber:';

/**
 * A subscriber name: 1 to 128 characters of letters, digits and `. _ : -`, starting with a letter
 * or a digit. Stricter than the store's checkpoint names (any printable text up to 256 bytes):
 * the name travels in URLs, Prometheus labels and log lines, where anything else needs quoting.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export type SubscriberStatus = 'connected' | 'disconnected';

export interface SubscriberInfo {
  name: string;
  kind: 'subscriber';
  status: SubscriberStatus;
  /** The last position acked (the stored checkpoint); 0 before the first ack. */
  position: number;
  /** Events in the log after the checkpoint. */
  lag: number;
  /** Open streams under this name (several clients may share a name; they share its checkpoint). */
  connections: number;
  /** The last position sent on any of its open streams; absent while disconnected. */
  delivered?: number;
}

export class SubscriberRegistry {
  private readonly streams = new Map<string, Set<LogSubscription>>();
  /**
   * New names whose first ack is being stored: counted against the cap until the checkpoint is
   * there, so that concurrent first acks of different names cannot all pass one free place.
   */
  private readonly creating = new Set<string>();
  /** The admissions of names (see `admit`), one after the other. */
  private admissions: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: EventLog,
    private readonly consumers: Consumers,
    private readonly maxSubscribers = DEFAULT_MAX_SUBSCRIBERS,
  ) {}

  /**
   * Throws `INVALID_ARGUMENT` (naming `where`, e.g. "query parameter subscriber") unless `name`
   * is a valid subscriber name, and `SUBSCRIBER_NAME_IN_USE` when an in-process projection or
   * relay of that name runs. Returns the name.
   */
  checkName(name: unknown, where: string): string {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ApiError(
        'INVALID_ARGUMENT',
        `${where} must be 1 to 128 letters, digits, ".", "_", ":" or "-", starting with a letter or a digit, got ${JSON.stringify(name)}`,
      );
    }
    const consumer = this.consumers.get(name);
    if (consumer && (consumer.kind === 'relay' || consumer.info().status !== 'stopped')) {
      throw new ApiError(
        'SUBSCRIBER_NAME_IN_USE',
        `${JSON.stringify(name)} is the name of an in-process ${consumer.kind} of this runtime; pick another subscriber name`,
        {
          name,
        },
      );
    }
    return name;
  }

  /** The stored checkpoint of subscriber `name`, if it ever acked (or was reset). */
  async checkpoint(name: string): Promise<number | undefined> {
    return await this.log.getCheckpoint(SUBSCRIBER_CHECKPOINT_PREFIX + name);
  }

  /** True when `name` is connected now or has a stored checkpoint. */
  async has(name: string): Promise<boolean> {
    if (!NAME.test(name)) return false;
    return (this.streams.get(name)?.size ?? 0) > 0 || (await this.checkpoint(name)) !== undefined;
  }

  /** Count `subscription` as one of `name`'s open streams until it closes (call `detach` then). */
  attach(name: string, subscription: LogSubscription): void {
    let open = this.streams.get(name);
    if (!open) this.streams.set(name, (open = new Set()));
    open.add(subscription);
  }

  detach(name: string, subscription: LogSubscription): void {
    const open = this.streams.get(name);
    if (!open) return;
    open.delete(subscription);
    if (open.size === 0) this.streams.delete(name);
  }

  /**
   * Store `position` as `name`'s checkpoint unless the stored one is already further, and resolve
   * with the checkpoint now stored, durably. The caller checks `position` against the log's head.
   */
  async ack(name: string, position: number): Promise<number> {
    const isNew = await this.admit(name, () => {
      if (this.isKnownHere(name)) return false;
      this.creating.add(name);
      return true;
    });
    if (!isNew) return this.log.advanceCheckpoint(SUBSCRIBER_CHECKPOINT_PREFIX + name, position);
    try {
      return await this.log.advanceCheckpoint(SUBSCRIBER_CHECKPOINT_PREFIX + name, position);
    } finally {
      this.creating.delete(name);
    }
  }

  /**
   * Runs `claim` once `name` has room: at once when `name` is known (connected, being stored, or
   * with a stored checkpoint), else when the runtime knows fewer than `maxSubscribers` names
   * (stored, connected, or being stored); else throws `TOO_MANY_SUBSCRIBERS`. Admissions run one
   * at a time, and `claim` (which must count the name, by attaching a stream or marking it as
   * being created) runs inside the admission, so concurrent new names cannot all pass one free
   * place while the stored names are read.
   */
  admit<T>(name: string, claim: () => T): Promise<T> {
    const admission = this.admissions.then(async () => {
      await this.checkRoom(name);
      return claim();
    });
    this.admissions = admission.catch(() => undefined);
    return admission;
  }

  private async checkRoom(name: string): Promise<void> {
    if (this.isKnownHere(name) || (await this.checkpoint(name)) !== undefined) return;
    const known = new Set([...this.creating, ...this.streams.keys()]);
    for (const entry of await this.log.listCheckpoints(SUBSCRIBER_CHECKPOINT_PREFIX))
      known.add(entry.name.slice(SUBSCRIBER_CHECKPOINT_PREFIX.length));
    if (known.size < this.maxSubscribers) return;
    throw new ApiError(
      'TOO_MANY_SUBSCRIBERS',
      `subscriber ${JSON.stringify(name)} would be new, and the runtime knows ${known.size} subscribers, its limit (--max-subscribers ${this.maxSubscribers}); delete the ones no longer used (DELETE /v1/subscribers/<name>, or thalo subscriber delete <name>) or raise the limit`,
      { name, maxSubscribers: this.maxSubscribers },
    );
  }

  /**
   * Forget subscriber `name`: its open streams end (a client that reconnects is a new subscriber
   * from the position it asks for) and its checkpoint is removed, durably, so it leaves
   * `GET /v1/projections` and the lag metric. Resolves with false when the name was unknown.
   */
  async delete(name: string): Promise<boolean> {
    const open = [...(this.streams.get(name) ?? [])];
    // Streams first, so that nothing more is sent under the name once its checkpoint is gone. An
    // ack already in flight may still land after the removal and store the name again: its
    // client acks as that subscriber, which is then a new one.
    for (const subscription of open) subscription.close();
    const stored = await this.log.deleteCheckpoint(SUBSCRIBER_CHECKPOINT_PREFIX + name);
    return stored || open.length > 0;
  }

  /** Connected now or being stored: known without reading the store. */
  private isKnownHere(name: string): boolean {
    return this.streams.has(name) || this.creating.has(name);
  }

  /**
   * Set `name`'s checkpoint to `position`, backwards too, and restart its open streams on their
   * connections from `position + 1`: a reset replays at once, without waiting for the clients to
   * reconnect (a reconnect with `Last-Event-ID` would resume where the client was, not at the
   * reset). The checkpoint is durable before the streams jump.
   */
  async reset(name: string, position: number): Promise<SubscriberInfo> {
    await this.log.setCheckpoint(SUBSCRIBER_CHECKPOINT_PREFIX + name, position);
    for (const subscription of this.streams.get(name) ?? []) subscription.restart(position + 1);
    return this.info(name, position, await this.log.lastPosition());
  }

  /** Every known subscriber (connected now, or with a stored checkpoint), by name. */
  async list(): Promise<SubscriberInfo[]> {
    const [entries, head] = await Promise.all([this.log.listCheckpoints(SUBSCRIBER_CHECKPOINT_PREFIX), this.log.lastPosition()]);
    const stored = new Map<string, number>();
    for (const entry of entries) stored.set(entry.name.slice(SUBSCRIBER_CHECKPOINT_PREFIX.length), entry.position);
    const names = [...new Set([...stored.keys(), ...this.streams.keys()])].sort();
    return names.map((name) => this.info(name, stored.get(name) ?? 0, head));
  }

  private info(name: string, position: number, head: number): SubscriberInfo {
    const open = this.streams.get(name);
    const info: SubscriberInfo = {
      name,
      kind: 'subscriber',
      status: open && open.size > 0 ? 'connected' : 'disconnected',
      position,
      lag: Math.max(0, head - position),
      connections: open?.size ?? 0,
    };
    if (open && open.size > 0) info.delivered = Math.max(...[...open].map((s) => s.delivered));
    return info;
  }
}
