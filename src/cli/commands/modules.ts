/** `thalo modules`: list the modules the runtime serves, with what each describes, and the files it refused. */
import type { Command } from 'commander';
import { clientOf, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

export function registerModules(program: Command): void {
  withConnection(program.command('modules').description('list the aggregate modules the runtime serves')).action(
    async (options: ConnectionOptions) => {
      await reportFailure(options, async () => {
        const list = await clientOf(options).modules();
        if (options.json) {
          process.stdout.write(`${JSON.stringify(list)}\n`);
          return;
        }
        const lines: string[] = [];
        for (const m of list.modules) {
          lines.push(`${m.name} ${m.description.version} (${m.file})`);
          lines.push(`  commands: ${m.description.commands.join(', ') || '(none)'}`);
          lines.push(`  events:   ${m.description.events.join(', ') || '(none)'}`);
        }
        if (list.modules.length === 0) lines.push('no modules are loaded');
        for (const r of list.refused) lines.push(`refused ${r.file}: ${r.error.code}: ${r.error.message}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    },
  );
}
