#!/usr/bin/env node
/**
 * `thalo`: the client CLI. This file only assembles the program: each subcommand lives in its
 * own file and registers itself (`registerBuild(program)`), so adding one is one import and one
 * call here. Exit codes: 0 ok, 1 rejected or failed, 2 usage.
 */
import { Command, CommanderError } from 'commander';
import { registerBuild } from './build.js';
import { registerCluster } from './commands/cluster.js';
import { registerEvents } from './commands/events.js';
import { registerExecute } from './commands/execute.js';
import { registerModules } from './commands/modules.js';
import { registerProjectionReset } from './commands/projection-reset.js';
import { registerProjections } from './commands/projections.js';
import { registerPublish } from './commands/publish.js';
import { registerStream } from './commands/stream.js';
import { registerSubscriberDelete } from './commands/subscriber-delete.js';

const program = new Command('thalo')
  .description('Thalo for Node: build aggregate modules and talk to a running thalo-runtime')
  // Commander exits by itself on usage errors; we want our exit codes, so it throws instead.
  .exitOverride()
  .showHelpAfterError();

registerBuild(program);
registerExecute(program);
registerStream(program);
registerEvents(program);
registerModules(program);
registerPublish(program);
registerProjections(program);
registerProjectionReset(program);
registerSubscriberDelete(program);
registerCluster(program);

try {
  await program.parseAsync();
} catch (error) {
  // Commander has already printed usage errors (and help, which exits 0).
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
