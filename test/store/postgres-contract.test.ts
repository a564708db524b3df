/**
 * The event store contract (test/store/contract/) against `PostgresEventStore`: each store in a
 * schema of its own on the PostgreSQL of THALO_POSTGRES_URL (default the local server's `test`
 * database), dropped after the file. What only PostgreSQL promises (migrations, several processes,
 * a lost connection) is tested in postgres-*.test.ts.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresEventStore } from '../../src/store/postgres/index.js';
import type { PostgresEventStoreOptions } from '../../src/store/postgres/index.js';
import type { EventStoreContract } from '../../src/store/index.js';
import { POSTGRES, dropSchemas, freshSchema, postgresSkipped, requirePostgres } from './postgres-helpers.js';
import { describeEventStoreContract } from './contract/index.js';

const openedWith = new WeakMap<EventStoreContract, PostgresEventStoreOptions>();
const schemas: string[] = [];

async function open(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const store = await PostgresEventStore.open(options);
  openedWith.set(store, options);
  return store;
}

describe.skipIf(postgresSkipped)('PostgreSQL', () => {
  beforeAll(requirePostgres);
  afterAll(() => dropSchemas(schemas));

  describeEventStoreContract('PostgreSQL', {
    create: (options) => {
      const schema = freshSchema();
      schemas.push(schema);
      return open({ url: POSTGRES.url, schema, ...options });
    },
    reopen: (store) => open(openedWith.get(store)!),
  });
});
