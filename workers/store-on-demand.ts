/**
 * The worker's store handle, opened at its first use rather than at the thread's start: opening a
 * PostgreSQL handle is asynchronous, and a worker module must not await at its top level (Piscina
 * loads it through `require` first, which refuses such a module). A failed opening (the database
 * unreachable) fails the calls that needed it, with the store's error, and the next call tries
 * again; the thread stays up.
 */
import { ThaloError } from '../src/errors.js';
import type { EventStoreContract, OpenedStore, StoreLocation } from '../src/store/index.js';
import { openStore } from '../src/store/index.js';
import type { CommonStoreOptions } from '../src/store/types.js';

export class StoreOnDemand implements EventStoreContract {
  private store: OpenedStore | undefined;
  private opening: Promise<OpenedStore> | undefined;
  private closed = false;

  constructor(
    private readonly location: StoreLocation,
    private readonly options: CommonStoreOptions,
  ) {}

  append: EventStoreContract['append'] = async (...args) => (await this.open()).append(...args);
  appendBatch: EventStoreContract['appendBatch'] = async (...args) => (await this.open()).appendBatch(...args);
  findCommand: EventStoreContract['findCommand'] = async (...args) => (await this.open()).findCommand(...args);
  readStream: EventStoreContract['readStream'] = async (...args) => (await this.open()).readStream(...args);
  readAll: EventStoreContract['readAll'] = async (...args) => (await this.open()).readAll(...args);
  lastPosition: EventStoreContract['lastPosition'] = async () => (await this.open()).lastPosition();
  streamVersion: EventStoreContract['streamVersion'] = async (...args) => (await this.open()).streamVersion(...args);
  listStreams: EventStoreContract['listStreams'] = async (...args) => (await this.open()).listStreams(...args);
  getCheckpoint: EventStoreContract['getCheckpoint'] = async (...args) => (await this.open()).getCheckpoint(...args);
  setCheckpoint: EventStoreContract['setCheckpoint'] = async (...args) => (await this.open()).setCheckpoint(...args);
  advanceCheckpoint: EventStoreContract['advanceCheckpoint'] = async (...args) => (await this.open()).advanceCheckpoint(...args);
  listCheckpoints: EventStoreContract['listCheckpoints'] = async (...args) => (await this.open()).listCheckpoints(...args);
  deleteCheckpoint: EventStoreContract['deleteCheckpoint'] = async (...args) => (await this.open()).deleteCheckpoint(...args);
  getSnapshot: EventStoreContract['getSnapshot'] = async (...args) => (await this.open()).getSnapshot(...args);
  putSnapshot: EventStoreContract['putSnapshot'] = async (...args) => (await this.open()).putSnapshot(...args);

  /** Closes the handle if it was opened (or is being opened). */
  async close(): Promise<void> {
    this.closed = true;
    const store = this.store ?? (await this.opening?.catch(() => undefined));
    await store?.close();
  }

  private open(): Promise<OpenedStore> {
    if (this.store !== undefined) return Promise.resolve(this.store);
    if (this.closed) return Promise.reject(new ThaloError('STORE_CLOSED', "the worker's store handle is closed"));
    this.opening ??= openStore(this.location, { ...this.options, role: 'worker' }).then(
      (store) => (this.store = store),
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }
}
