import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the tests that need no service (Redis, NATS, PostgreSQL), no mount and no child process,
 * and kill nothing but threads: the store, the wasm host and guest SDK, the engine through its Node
 * API, and the server's pure parts. The rest (the runtime and the CLI as processes, SIGKILL
 * rounds, relays to real brokers, the torture test) runs in `npm test` only. A new test that
 * starts a process or needs a service belongs in the excludes below. The PostgreSQL runs of the
 * store and engine suites are skipped here (THALO_SKIP_POSTGRES), their LMDB runs stay.
 */
export default defineConfig({
  test: {
    ...base.test,
    env: { ...base.test?.env, THALO_SKIP_POSTGRES: '1' },
    include: [
      'test/errors.test.ts',
      'test/architecture/**/*.test.ts',
      'test/{store,wasm,guest,protocol,engine,projections}/**/*.test.ts',
      'test/server/{connection-limits,error-table}.test.ts',
      'test/cli/relay-spec.test.ts',
      'test/console/metrics.test.ts',
    ],
    exclude: [
      '**/node_modules/**',
      '**/crash.test.ts',
      'test/store/{durability,lock}.test.ts',
      'test/wasm/{module-limits,c-counter}.test.ts',
    ],
  },
});
