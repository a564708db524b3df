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

/** A command payload is a JSON object; an absent body means `{}`. */
export function checkPayload(payload: unknown, where: string): Record<string, unknown> {
  if (payload === undefined || payload === null) return {};
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw new ApiError('INVALID_PAYLOAD', `${where} must be a JSON object, got ${Array.isArray(payload) ? 'an array' : typeof payload}`);
  }
  return payload as Record<string, unknown>;
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

const ITEM_FIELDS = new Set(['aggregate', 'id', 'command', 'payload', 'expectedVersion', 'commandId', 'correlationId', 'causationId', 'headers']);

function stringField(item: Record<string, unknown>, name: string, where: string, required: boolean): string | undefined {
  const value = item[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') throw invalid(`${where}.${name} must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

/**
 * The commands of a batch body `{ commands: [{ aggregate, id, command, payload?, expectedVersion?,
 * commandId?, correlationId?, causationId?, headers? }] }`. A malformed item fails the whole
 * request (400), since it says the client is broken; the engine's verdict on each well-formed
 * command is reported per command.
 */
export function parseBatch(body: unknown): BatchCommand[] {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { commands?: unknown }).commands)) {
    throw invalid('the body must be {"commands": [...]}');
  }
  const items = (body as { commands: unknown[] }).commands;
  if (items.length > MAX_BATCH_COMMANDS) throw invalid(`a batch holds at most ${MAX_BATCH_COMMANDS} commands, got ${items.length}`);
  return items.map((item, i) => {
    const where = `commands[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(`${where} must be an object`);
    const fields = item as Record<string, unknown>;
    for (const key of Object.keys(fields)) if (!ITEM_FIELDS.has(key)) throw invalid(`${where} has an unknown field ${JSON.stringify(key)}`);
    const options: ExecuteOptions = {};
    if (fields.expectedVersion !== undefined) options.expectedVersion = parseExpectedVersion(fields.expectedVersion, `${where}.expectedVersion`);
    const commandId = stringField(fields, 'commandId', where, false);
    if (commandId !== undefined) options.commandId = commandId;
    const correlationId = stringField(fields, 'correlationId', where, false);
    if (correlationId !== undefined) options.correlationId = correlationId;
    const causationId = stringField(fields, 'causationId', where, false);
    if (causationId !== undefined) options.causationId = causationId;
    // The engine checks the headers' shape and says which one is wrong.
    if (fields.headers !== undefined) options.headers = fields.headers as Record<string, string>;
    return {
      aggregate: stringField(fields, 'aggregate', where, true)!,
      id: stringField(fields, 'id', where, true)!,
      command: stringField(fields, 'command', where, true)!,
      payload: checkPayload(fields.payload, `${where}.payload`),
      options,
    };
  });
}

/** A non-negative integer query parameter, or `fallback` when absent. */
export function queryInteger(value: unknown, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^[0-9]{1,16}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw invalid(`query parameter ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}
