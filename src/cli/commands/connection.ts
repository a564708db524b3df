/**
 * What every client command of `thalo` shares: the `--url`, `--token` and `--json` options, the
 * client they make, and how a failed request is reported (exit code 1; the error's code and
 * message on stderr, or as JSON on stdout with `--json`).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { ApiClientError, ThaloClient } from '../../client/index.js';
import type { ExecutedEvent } from '../../engine/index.js';

export interface ConnectionOptions {
  url: string;
  token?: string;
  json?: boolean;
}

/** Add `--url`, `--token` and `--json` to a subcommand. */
export function withConnection(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', "the runtime's base URL").env('THALO_URL').default('http://127.0.0.1:4433'))
    .addOption(new Option('--token <token>', 'bearer token, when the runtime has one').env('THALO_TOKEN'))
    .option('--json', 'print JSON instead of text');
}

export function clientOf(options: ConnectionOptions): ThaloClient {
  // Empty environment variables count as unset.
  return new ThaloClient({ url: options.url || undefined, token: options.token || undefined });
}

/**
 * Run a command's body; a request the runtime refused (or could not take) prints the error and
 * sets exit code 1. Anything else propagates to `thalo.ts`.
 */
export async function reportFailure(options: ConnectionOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (!(error instanceof ApiClientError)) throw error;
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ error: { status: error.status, code: error.code, message: error.message, data: error.data } })}\n`,
      );
    } else if (error.code === 'COMMAND_REJECTED') {
      // The rejection's data is for programs, but a person reading the terminal needs it too
      // (the balance an overdraft was refused against): one JSON line after the message.
      const rejection = error.data as { code?: string; message?: string; data?: unknown } | undefined;
      const data = rejection?.data === undefined || rejection.data === null ? '' : `\n  data: ${JSON.stringify(rejection.data)}`;
      process.stderr.write(`Rejected: ${rejection?.code ?? error.code}: ${rejection?.message ?? error.message}${data}\n`);
    } else {
      process.stderr.write(`Error: ${error.code}: ${error.message}\n`);
    }
    process.exitCode = 1;
  }
}

/** One event on one line: `<position>  <stream>#<seq>  <Type> <data as JSON>`. */
export function eventLine(event: ExecutedEvent): string {
  return `${event.position}  ${event.stream}#${event.seq}  ${event.type} ${JSON.stringify(event.data)}`;
}

/** Parse a positive integer option, or fail with a usage error (exit code 2). */
export function positiveInteger(command: Command, value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < min)
    command.error(`error: ${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`, { exitCode: 2 });
  return Number(value);
}
