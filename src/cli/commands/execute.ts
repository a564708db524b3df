/**
 * `thalo execute <aggregate> <id> <command> <json>`: execute one command and print its events,
 * as the original Thalo's README shows it (four spaces, the type, two spaces, the data):
 *
 *   Executed with 1 events:
 *       Incremented  {"amount":10}
 */
import type { Command } from 'commander';
import { parseExpectedVersion } from '../../expected-version.js';
import type { ExpectedVersion } from '../../expected-version.js';
import { clientOf, reportFailure, withConnection } from './connection.js';
import type { ConnectionOptions } from './connection.js';

interface ExecuteCommandOptions extends ConnectionOptions {
  expectedVersion?: string;
  commandId?: string;
  correlationId?: string;
}

export function registerExecute(program: Command): void {
  const command = withConnection(
    program
      .command('execute')
      .description('execute a command on an aggregate and print the events it appended')
      .argument('<aggregate>', 'aggregate name, e.g. counter')
      .argument('<id>', 'aggregate id, e.g. abc123')
      .argument('<command>', 'command name, e.g. Increment')
      .argument('[json]', 'the payload, a JSON object', '{}')
      .option('--expected-version <version>', "any, no_stream, exists, or the stream's exact version")
      .option('--command-id <id>', 'idempotency key: a retry with the same id appends nothing')
      .option('--correlation-id <id>', 'correlation id stored with the events'),
  );
  command.action(async (aggregate: string, id: string, name: string, json: string, options: ExecuteCommandOptions) => {
    let payload: unknown;
    try {
      payload = JSON.parse(json);
    } catch (error) {
      command.error(`error: the payload is not valid JSON: ${(error as Error).message}`, { exitCode: 2 });
    }
    // Checked here by the runtime's own rule: past 2^53 - 1 the number would round and the
    // runtime would be asked for a version nobody typed.
    let expectedVersion: ExpectedVersion | undefined;
    try {
      if (options.expectedVersion !== undefined) expectedVersion = parseExpectedVersion(options.expectedVersion, '--expected-version');
    } catch (error) {
      command.error(`error: ${(error as Error).message}`, { exitCode: 2 });
    }
    await reportFailure(options, async () => {
      const result = await clientOf(options).execute(aggregate, id, name, payload, {
        expectedVersion,
        commandId: options.commandId,
        correlationId: options.correlationId,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const lines = [
        `Executed with ${result.events.length} events:`,
        ...result.events.map((e) => `    ${e.type}  ${JSON.stringify(e.data)}`),
      ];
      if (result.duplicate) lines.push('(a retry: the command id was executed before, nothing new was appended)');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  });
}
