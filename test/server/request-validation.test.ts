/**
 * Request validation through the routes' schemas, against `thalo-runtime` as a process: each
 * part of a request (path, query, headers, body) refused with the code and a message that names
 * the field, quotes what was sent and says what it takes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, request, startRuntime } from './runtime-process.js';
import type { RuntimeProcess } from './runtime-process.js';

let runtime: RuntimeProcess;
let url: string;

beforeAll(async () => {
  runtime = await startRuntime();
  url = runtime.url;
  expect((await execute(url, 'counter', 'v1', 'Increment', { amount: 1 })).status).toBe(200);
});

afterAll(async () => {
  await runtime.stop();
});

const json = (method: string, body: string) => ({ method, headers: { 'content-type': 'application/json' }, body });
const batch = (commands: unknown[], extra: Record<string, unknown> = {}) => json('POST', JSON.stringify({ commands, ...extra }));

/** [what, path, init, code, message] */
const REFUSED: [string, string, RequestInit, string, string][] = [
  [
    'a query integer in hex',
    '/v1/events?from=0x10',
    {},
    'INVALID_ARGUMENT',
    `query parameter from must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "0x10"`,
  ],
  [
    'a query integer with a space',
    '/v1/events?limit=%205',
    {},
    'INVALID_ARGUMENT',
    'query parameter limit must be an integer from 1 to 10000, got " 5"',
  ],
  [
    'a query integer past 2^53',
    '/v1/events?from=99999999999999999',
    {},
    'INVALID_ARGUMENT',
    `query parameter from must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "99999999999999999"`,
  ],
  [
    'a query parameter given twice',
    '/v1/events?limit=1&limit=2',
    {},
    'INVALID_ARGUMENT',
    'query parameter limit must be an integer from 1 to 10000, got an array of 2 items',
  ],
  [
    'a flag',
    '/v1/aggregates/counter/v1/events?backwards=maybe',
    {},
    'INVALID_ARGUMENT',
    'query parameter backwards must be true or false, got "maybe"',
  ],
  // The store refused it, naming its own `options.from`.
  [
    'backwards from 0',
    '/v1/aggregates/counter/v1/events?backwards=true&from=0',
    {},
    'INVALID_ARGUMENT',
    `query parameter from must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "0"`,
  ],
  [
    'Last-Event-ID',
    '/v1/subscribe',
    { headers: { 'last-event-id': '1.5' } },
    'INVALID_ARGUMENT',
    'header Last-Event-ID must be a global position (an integer), got "1.5"',
  ],
  [
    'a payload that is an array',
    '/v1/aggregates/counter/v1/commands/Increment',
    json('POST', '[1]'),
    'INVALID_PAYLOAD',
    'the body must be a JSON object, got an array of 1 item',
  ],
  [
    'a payload that is a string',
    '/v1/aggregates/counter/v1/commands/Increment',
    json('POST', '"x"'),
    'INVALID_PAYLOAD',
    'the body must be a JSON object, got "x"',
  ],
  [
    'a batch without commands',
    '/v1/commands',
    json('POST', '{}'),
    'INVALID_ARGUMENT',
    'body field commands must be an array of at most 10000 commands, got nothing',
  ],
  [
    'a batch with a field more',
    '/v1/commands',
    batch([], { dryRun: true }),
    'INVALID_ARGUMENT',
    'the body has an unknown field "dryRun" (it takes only "commands")',
  ],
  [
    'a batch item that is a number',
    '/v1/commands',
    batch([5]),
    'INVALID_ARGUMENT',
    'commands[0] must be a command {"aggregate", "id", "command", "payload"?, …}, got 5',
  ],
  [
    'a batch item id of a number',
    '/v1/commands',
    batch([{ aggregate: 'counter', id: 7, command: 'Increment' }]),
    'INVALID_ARGUMENT',
    'commands[0].id must be a string, got 7',
  ],
  [
    'a batch item without a command',
    '/v1/commands',
    batch([{ aggregate: 'counter', id: 'v1' }]),
    'INVALID_ARGUMENT',
    'commands[0].command must be a string, got nothing',
  ],
  [
    'a batch item with a misspelt field',
    '/v1/commands',
    batch([{ aggregate: 'counter', id: 'v1', command: 'Increment', commandID: 'c1' }]),
    'INVALID_ARGUMENT',
    'commands[0] has an unknown field "commandID" (it takes only "aggregate", "id", "command", "payload", "expectedVersion", "commandId", "correlationId", "causationId", "headers")',
  ],
  [
    'a batch item payload',
    '/v1/commands',
    batch([{ aggregate: 'counter', id: 'v1', command: 'Increment', payload: [] }]),
    'INVALID_PAYLOAD',
    'commands[0].payload must be a JSON object, got an array of 0 items',
  ],
  [
    'a long string, cut',
    '/v1/commands',
    batch([{ aggregate: 'counter', id: 'v1', command: 'Increment', payload: 'x'.repeat(300) }]),
    'INVALID_PAYLOAD',
    `commands[0].payload must be a JSON object, got "${'x'.repeat(199)}… (302 characters)`,
  ],
  [
    'an ack position that is a string',
    '/v1/subscribers/v/ack',
    json('POST', '{"position":"1"}'),
    'INVALID_ARGUMENT',
    `body field position must be a non-negative integer (at most ${Number.MAX_SAFE_INTEGER}), got "1"`,
  ],
  [
    'an ack position that is true',
    '/v1/subscribers/v/ack',
    json('POST', '{"position":true}'),
    'INVALID_ARGUMENT',
    `body field position must be a non-negative integer (at most ${Number.MAX_SAFE_INTEGER}), got true`,
  ],
  [
    'an ack without a position',
    '/v1/subscribers/v/ack',
    json('POST', '{}'),
    'INVALID_ARGUMENT',
    `body field position must be a non-negative integer (at most ${Number.MAX_SAFE_INTEGER}), got nothing`,
  ],
  [
    'a misspelt reset',
    '/v1/projections/v/reset',
    json('POST', '{"positon":0}'),
    'INVALID_ARGUMENT',
    'the body has an unknown field "positon" (it takes only "position")',
  ],
  [
    'a reset position of 1.5',
    '/v1/projections/v/reset',
    json('POST', '{"position":1.5}'),
    'INVALID_ARGUMENT',
    `body field position must be a non-negative integer (at most ${Number.MAX_SAFE_INTEGER}), got 1.5`,
  ],
];

describe('request validation', () => {
  it.each(REFUSED)('refuses %s, naming it', async (_what, path, init, code, message) => {
    const answer = await request(`${url}${path}`, init);
    expect(answer.body).toEqual({ code, message });
    expect(answer.status).toBe(400);
  });

  it('takes what the schemas allow, as before', async () => {
    // An empty query parameter reads as none; no body and a null body are the payload {}.
    expect((await request(`${url}/v1/events?from=&limit=`)).body.events.length).toBe(1);
    expect((await request(`${url}/v1/aggregates/counter/v1/events?backwards=1&from=1`)).body.events.length).toBe(1);
    expect((await request(`${url}/v1/aggregates/counter/v1/commands/Increment`, json('POST', 'null'))).status).toBe(422);
    // A batch item's expected version as text or a number; a reset with no body is a reset to 0.
    const ok = await request(
      `${url}/v1/commands`,
      batch([{ aggregate: 'counter', id: 'v1', command: 'Increment', payload: { amount: 1 }, expectedVersion: 1 }]),
    );
    expect(ok.body.results[0]).toMatchObject({ status: 200 });
    expect((await request(`${url}/v1/projections/nobody/reset`, { method: 'POST' })).body.code).toBe('PROJECTION_NOT_FOUND');
    const sse = await fetch(`${url}/v1/subscribe`, { headers: { 'last-event-id': '1' } });
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
  });
});
