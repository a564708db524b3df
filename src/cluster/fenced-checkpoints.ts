/**
 * The checkpoint of a projection or relay that runs under a lease: read as stored, written only
 * while the lease's fence is current (one statement, see `LeaseTable.writeCheckpoint`). A refused
 * write rejects with `LEASE_NOT_HELD` and tells the keeper, which stops the consumer at once; the
 * batch it covered was delivered here and is delivered again by the new holder (at-least-once).
 */
import { ThaloError } from '../errors.js';
import type { ProjectionCheckpoints } from '../projections/index.js';
import type { LeaseTable } from './lease-table.js';

export interface FencedCheckpointOptions {
  table: LeaseTable;
  /** The lease row's name (`projection:audit`). */
  lease: string;
  holder: string;
  /** The fence the lease was acquired with. */
  fence: number;
  /** A write was refused: the lease is another node's now. */
  refused(fence: number): void;
}

export function fencedCheckpoints({ table, lease, holder, fence, refused }: FencedCheckpointOptions): ProjectionCheckpoints {
  return {
    get: (name) => table.readCheckpoint(name),
    async set(name, position) {
      if (await table.writeCheckpoint(lease, holder, fence, name, position)) return;
      refused(fence);
      throw new ThaloError(
        'LEASE_NOT_HELD',
        `checkpoint ${JSON.stringify(name)} not moved to ${position}: the lease ${lease} is no longer this node's under fence ${fence} (another node took over)`,
        { data: { name, lease, fence } },
      );
    },
  };
}
