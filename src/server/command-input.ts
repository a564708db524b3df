/**
 * Reading commands out of requests: the options of a single command from its headers, and the
 * commands of a batch from its body. Checks here name the header or field at fault; the engine
 * checks the rest (ids, command names, payload size) and its errors reach the client unchanged.
 */
import type { ExecuteOptions } from '../engine/index.js';
// The header's text and a batch item's field are read by the one expected-version rule, which
// checks text before it becomes a number (a 16-digit header used to round) and names the field.
import { parseExpectedVersion } from '../expected-version.js';
import { HEADERS } from '../protocol/http.js';
import { ApiError } from './api-errors.js';

// The header names are the API's vocabulary, shared with the client.
export { HEADERS };

/** The largest number of commands one batch request may carry. */
export const MAX_BATCH_COMMANDS = 10_000;

function invalid(message: string, data?: unknown): ApiError {
  return new ApiError('INVALID_ARGUMENT', message, data);
}

/** A header's name as the docs write it (`Thalo-Expected-Version`); Node gives them lowercased. */
function shownHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw invalid(`header ${shownHeader(name)} was given ${value.length} times`);
  return value;
}

/** The execute options a single-command request carries in its `Thalo-*` headers. */
export function optionsFromHeaders(headers: Record<string, string | string[] | undefined>): ExecuteOptions {
  const options: ExecuteOptions = {};
  const expected = header(headers, HEADERS.expectedVersion);
  if (expected !== undefined) options.expectedVersion = parseExpectedVersion(expected, `header ${shownHeader(HEADERS.expectedVersion)}`);
  const commandId = header(headers, HEADERS.commandId);
  if (commandId !== undefined) options.commandId = commandId;
  const correlationId = header(headers, HEADERS.correlationId);
  if (correlationId !== undefined) options.correlationId = correlationId;
  const causationId = header(headers, HEADERS.causationId);
  if (causationId !== undefined) options.causationId = causationId;
  return options;
}

/** One command of a batch, checked. */
export interface BatchCommand {
  aggregate: string;
  id: string;
  command: string;
  payload: Record<string, unknown>;
  options: ExecuteOptions;
}

/** One item of a batch body as its schema (routes/commands.ts) lets it through. */
export interface BatchItem {
  aggregate: string;
  id: string;
  command: string;
  payload?: Record<string, unknown> | null;
  expectedVersion?: unknown;
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  headers?: Record<string, string>;
}

/**
 * The commands of a batch body `{ commands: [{ aggregate, id, command, payload?, expectedVersion?,
 * commandId?, correlationId?, causationId?, headers? }] }`, whose shape the route's schema checked
 * (a malformed item fails the whole request, 400, since it says the client is broken); the
 * engine's verdict on each well-formed command is reported per command.
 */
export function parseBatch(items: BatchItem[]): BatchCommand[] {
  return items.map((item, i) => {
    const options: ExecuteOptions = {};
    if (item.expectedVersion !== undefined)
      options.expectedVersion = parseExpectedVersion(item.expectedVersion, `commands[${i}].expectedVersion`);
    if (item.commandId !== undefined) options.commandId = item.commandId;
    if (item.correlationId !== undefined) options.correlationId = item.correlationId;
    if (item.causationId !== undefined) options.causationId = item.causationId;
    // The engine checks the headers' shape and says which one is wrong.
    if (item.headers !== undefined) options.headers = item.headers;
    return { aggregate: item.aggregate, id: item.id, command: item.command, payload: item.payload ?? {}, options };
  });
}
