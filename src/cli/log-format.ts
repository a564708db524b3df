/**
 * How `thalo-runtime` writes its log: `json` (one pino JSON object per line, for machines and log
 * shippers) or `pretty` (one line per entry for a person at a terminal, the fields as
 * `key=value` after the message, as the original Thalo prints them):
 *
 *   [12:00:00.000] INFO: loaded module from file file="modules/counter.wasm" module="counter" …
 *
 * The default is `pretty` on a terminal and `json` otherwise.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export const LOG_FORMATS: LogFormat[] = ['json', 'pretty'];

/** The pino fields that are not the entry's own. */
const STANDARD = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** `message key="value" key=42 …`: the entry's fields in logfmt style, values as JSON. */
export function logfmtLine(entry: Record<string, unknown>): string {
  const fields = Object.entries(entry)
    .filter(([key]) => !STANDARD.has(key))
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'object' && value !== null && 'message' in value && 'stack' in value ? JSON.stringify((value as Error).message) : JSON.stringify(value)}`,
    );
  return [String(entry.msg ?? ''), ...fields].join(' ');
}

export function createLogger(level: string, format: LogFormat): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'json') return pino(options);
  // Synchronous, in this thread: a worker-thread transport could lose the last lines when the
  // process exits right after logging (a failed start).
  const stream = pretty({
    sync: true,
    colorize: process.stdout.isTTY === true,
    translateTime: 'HH:MM:ss.l',
    hideObject: true,
    messageFormat: (entry) => logfmtLine(entry),
  });
  return pino(options, stream);
}
