/**
 * `npm run bench`: the engine, PostgreSQL, HTTP, projection and relay benchmarks, one after the
 * other, each in a process of its own (as each runs alone with its own `npm run bench:*`).
 *
 * Every part runs even when one before it fell below its bar or failed: a bar missed on a slow
 * moment of the machine (readAll from PostgreSQL, say) used to end the run there, before the HTTP
 * figures. The exit code is 1 when any part exited non-zero, and the last lines name each part's
 * exit.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PARTS = ['engine', 'postgres', 'http', 'projections', 'relays'] as const;
const here = dirname(fileURLToPath(import.meta.url));

const exits = PARTS.map((part) => {
  const run = spawnSync(process.execPath, [join(here, `${part}.js`)], { stdio: 'inherit' });
  // A part killed by a signal has no exit code: it failed all the same.
  return { part, code: run.status ?? 1, signal: run.signal };
});

console.log('\nnpm run bench: each part');
for (const { part, code, signal } of exits) {
  const said = signal ? `killed by ${signal}` : code === 0 ? 'ok' : `exited ${code}`;
  console.log(`  ${`bench/${part}.ts`.padEnd(22)} ${said}`);
}
process.exitCode = exits.some((e) => e.code !== 0) ? 1 : 0;
