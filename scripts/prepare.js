#!/usr/bin/env node
// npm's `prepare`: build the TypeScript, the example modules and the console after `npm install` in a clone.
//
// Not under `npx thalo` / `npx thalo-runtime` in the repository: npm exec links the project into
// its cache to find the bin, and runs `prepare` while doing so (about 30 s here, and a failing
// example module made the command exit 1 with npm's output hidden). The bins run the project's
// own build, so there is nothing to prepare; `npm run build` refreshes it.
/* global process */
import { spawnSync } from 'node:child_process';

if (process.env.npm_command !== 'exec') {
  for (const script of ['build', 'build:modules', 'build:console']) {
    const { status } = spawnSync('npm', ['run', script], { stdio: 'inherit' });
    if (status !== 0) {
      process.stderr.write(`prepare: npm run ${script} failed (exit ${status}); see its output above\n`);
      process.exit(status ?? 1);
    }
  }
}
