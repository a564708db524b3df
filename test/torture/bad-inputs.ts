/**
 * Malformed requests, each with the answer docs/http-api.md promises for it: a 4xx whose JSON body
 * carries a stable `code` from the documented table; and commands of a module whose output the
 * runtime must refuse, each with its documented code. They are sent throughout the run, between the
 * SIGKILLs, against whatever generation serves; none may get a 5xx, go unanswered, or take the
 * process down. None of them may write anything either (the log checks see to that: every event
 * must belong to an acknowledged command).
 */
import { connect } from 'node:net';
import { request } from '../server/runtime-process.js';
import type { RuntimeUnderTest } from './runtime-under-test.js';

/** Every code the error table of docs/http-api.md lists: the vocabulary a client may branch on. */
export const DOCUMENTED_CODES = new Set([
  'MALFORMED_REQUEST',
  'INVALID_ARGUMENT',
  'INVALID_AGGREGATE_ID',
  'INVALID_PAYLOAD',
  'MODULE_INVALID',
  'UNAUTHORIZED',
  'AGGREGATE_NOT_FOUND',
  'UNKNOWN_COMMAND',
  'ROUTE_NOT_FOUND',
  'PROJECTION_NOT_FOUND',
  'WRONG_EXPECTED_VERSION',
  'SUBSCRIBER_NAME_IN_USE',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'COMMAND_REJECTED',
  'COMMAND_ID_REUSED',
  'METADATA_TOO_LARGE',
  'TOO_MANY_EVENTS',
  'EVENT_TOO_LARGE',
  'GUEST_FAULT',
]);

export interface Answer {
  status: number;
  /** The body's `code`; for a 422, `COMMAND_REJECTED/<the aggregate's code>`. */
  code: string;
}

export interface BadInput {
  name: string;
  /** What the docs promise, as `<status> <code>`; where they allow two readings, both. */
  expected: string[];
  send(url: string): Promise<Answer>;
}

export interface BadInputResult extends Answer {
  name: string;
  expected: string;
  ok: boolean;
  generation: number;
}

/** Thrown when the connection died under a request: the runtime was killed, try the next one. */
class ConnectionLost extends Error {}

const JSON_TYPE = { 'content-type': 'application/json' };
const command = (id: string, name: string) => `/v1/aggregates/bank_account/${encodeURIComponent(id)}/commands/${name}`;
const rogue = (name: string) => `/v1/aggregates/rogue/r1/commands/${name}`;

function answerOf(status: number, body: any): Answer {
  let code = typeof body?.code === 'string' ? body.code : `(no code: ${JSON.stringify(body).slice(0, 80)})`;
  if (status === 422 && code === 'COMMAND_REJECTED') code = `${code}/${body?.data?.code}`;
  return { status, code };
}

async function http(url: string, path: string, init: RequestInit = {}): Promise<Answer> {
  let answer: { status: number; body: unknown };
  try {
    answer = await request(`${url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    throw new ConnectionLost(String(error));
  }
  return answerOf(answer.status, answer.body);
}

/**
 * Send raw bytes on a socket, half-close it, and read the answer: for bodies cut short, which
 * fetch will not send. No answer within 5 s is an answer too (a status of 0).
 */
function raw(url: string, bytes: string): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: 0, code: 'NO_ANSWER' });
    }, 5_000);
    socket.on('close', () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (!status) return reject(new ConnectionLost(`no answer on the socket: ${JSON.stringify(received.slice(0, 80))}`));
      const text = received.slice(received.indexOf('\r\n\r\n') + 4);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the code check below says so
      }
      resolve(answerOf(Number(status[1]), body));
    });
  });
}

const post = (body: string | Uint8Array, headers: Record<string, string> = JSON_TYPE): RequestInit => ({ method: 'POST', headers, body });
const put = (body: Uint8Array | string, type = 'application/wasm'): RequestInit => ({
  method: 'PUT',
  headers: { 'content-type': type },
  body,
});
const tooMany = JSON.stringify({
  commands: Array.from({ length: 10_001 }, () => ({ aggregate: 'counter', id: 'never', command: 'Increment' })),
});
const huge = JSON.stringify({ amount: 1, note: 'x'.repeat(3 << 20) });
const head = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nHost: thalo\r\n${extra}\r\n`;

/** One command sent alone in a batch: its own answer, as the batch reports it. */
async function batchItem(url: string, item: Record<string, unknown>): Promise<Answer> {
  let answer: { status: number; body: any };
  try {
    answer = await request(`${url}/v1/commands`, { ...post(JSON.stringify({ commands: [item] })), signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    throw new ConnectionLost(String(error));
  }
  const result = answer.body?.results?.[0];
  return answer.status === 200 && result ? answerOf(result.status, result.error ?? result.result) : answerOf(answer.status, answer.body);
}

function input(name: string, expected: string | string[], send: (url: string) => Promise<Answer>): BadInput {
  return { name, expected: typeof expected === 'string' ? [expected] : expected, send };
}

/** The catalogue. `bad-*` accounts are never opened by any client. */
export const BAD_INPUTS: BadInput[] = [
  // Bodies that are not JSON, or not the JSON the route takes.
  input('bad JSON', '400 MALFORMED_REQUEST', (u) => http(u, command('bad-1', 'Deposit'), post('{"amount": '))),
  input('empty JSON body', '400 MALFORMED_REQUEST', (u) => http(u, command('bad-1', 'Deposit'), post(''))),
  input('__proto__ in JSON', '400 MALFORMED_REQUEST', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"__proto__":{"polluted":1},"amount":1}')),
  ),
  input('array as payload', '400 INVALID_PAYLOAD', (u) => http(u, command('bad-1', 'Deposit'), post('[{"amount":1}]'))),
  input('string as payload', '400 INVALID_PAYLOAD', (u) => http(u, command('bad-1', 'Deposit'), post('"amount=1"'))),
  input('deeply nested array', '400 INVALID_PAYLOAD', (u) =>
    http(u, command('bad-1', 'Deposit'), post('['.repeat(50_000) + ']'.repeat(50_000))),
  ),
  input('payload nested 65 levels', '400 INVALID_PAYLOAD', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"a":'.repeat(65) + '1' + '}'.repeat(65))),
  ),
  // Integers JSON cannot carry exactly (docs/http-api.md, "Values").
  input('amount 1e18', '400 INVALID_PAYLOAD', (u) => http(u, command('bad-1', 'Deposit'), post('{"amount":1e18}'))),
  input('amount 9007199254740993', '400 INVALID_PAYLOAD', (u) => http(u, command('bad-1', 'Deposit'), post('{"amount":9007199254740993}'))),
  input('batch item with amount -1e18', '400 INVALID_PAYLOAD', (u) =>
    batchItem(u, { aggregate: 'bank_account', id: 'bad-1', command: 'Deposit', payload: { amount: -1e18 } }),
  ),
  input('batch item with 20 KiB of headers', '413 METADATA_TOO_LARGE', (u) =>
    batchItem(u, {
      aggregate: 'bank_account',
      id: 'bad-1',
      command: 'Deposit',
      payload: { amount: 1 },
      headers: { note: 'n'.repeat(20 * 1024) },
    }),
  ),
  input('form-encoded body', '415 UNSUPPORTED_MEDIA_TYPE', (u) =>
    http(u, command('bad-1', 'Deposit'), post('amount=1', { 'content-type': 'application/x-www-form-urlencoded' })),
  ),
  input('text/plain body', '415 UNSUPPORTED_MEDIA_TYPE', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"amount":1}', { 'content-type': 'text/plain' })),
  ),
  // Well-formed JSON with fields of the wrong type: the module refuses them by name.
  input('amount as a string', '422 COMMAND_REJECTED/INVALID_PAYLOAD', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"amount":"ten"}')),
  ),
  input('amount as a float', '422 COMMAND_REJECTED/INVALID_PAYLOAD', (u) => http(u, command('bad-1', 'Withdraw'), post('{"amount":1.5}'))),
  input('amount missing', '422 COMMAND_REJECTED/INVALID_PAYLOAD', (u) => http(u, command('bad-1', 'Deposit'), post('{}'))),
  input('initial_balance as an object', '422 COMMAND_REJECTED/INVALID_PAYLOAD', (u) =>
    http(u, command('bad-2', 'OpenAccount'), post('{"initial_balance":{"a":[1]}}')),
  ),
  // 1e300 is integral and past 2^53: the value rule refuses it before the module (docs/http-api.md, "Values").
  input('initial_balance 1e300', '400 INVALID_PAYLOAD', (u) => http(u, command('bad-2', 'OpenAccount'), post('{"initial_balance":1e300}'))),
  input('initial_balance null', '422 COMMAND_REJECTED/INVALID_PAYLOAD', (u) =>
    http(u, command('bad-2', 'OpenAccount'), post('{"initial_balance":null}')),
  ),
  // Headers of the wrong form.
  input('expected version "soon"', '400 INVALID_ARGUMENT', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"amount":1}', { ...JSON_TYPE, 'thalo-expected-version': 'soon' })),
  ),
  input('expected version -1', '400 INVALID_ARGUMENT', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"amount":1}', { ...JSON_TYPE, 'thalo-expected-version': '-1' })),
  ),
  input('command id of 5,000 characters', '400 INVALID_ARGUMENT', (u) =>
    http(u, command('bad-1', 'Deposit'), post('{"amount":1}', { ...JSON_TYPE, 'thalo-command-id': 'x'.repeat(5_000) })),
  ),
  // Unknown things.
  input('unknown aggregate', '404 AGGREGATE_NOT_FOUND', (u) => http(u, '/v1/aggregates/vault/v1/commands/Deposit', post('{"amount":1}'))),
  input('unknown aggregate (unicode)', '404 AGGREGATE_NOT_FOUND', (u) =>
    http(u, `/v1/aggregates/${encodeURIComponent('☃')}/v1/commands/Deposit`, post('{}')),
  ),
  input('unknown command', '404 UNKNOWN_COMMAND', (u) => http(u, command('bad-1', 'Steal'), post('{"amount":1}'))),
  input('unknown aggregate read', '404 AGGREGATE_NOT_FOUND', (u) => http(u, '/v1/aggregates/vault/v1/events')),
  input('unknown route', '404 ROUTE_NOT_FOUND', (u) => http(u, '/v1/accounts')),
  input('unknown method', '404 ROUTE_NOT_FOUND', (u) => http(u, '/v1/events', { method: 'DELETE' })),
  // Huge payloads.
  input('3 MiB body', '413 PAYLOAD_TOO_LARGE', (u) => http(u, command('bad-1', 'Deposit'), post(huge))),
  input('batch of 10,001 commands', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/commands', post(tooMany))),
  // Invalid stream names.
  input('id with a control character', '400 INVALID_AGGREGATE_ID', (u) => http(u, command('bad\u0001id', 'Deposit'), post('{"amount":1}'))),
  input('id with a newline, read', '400 INVALID_AGGREGATE_ID', (u) =>
    http(u, `/v1/aggregates/bank_account/${encodeURIComponent('a\nb')}/events`),
  ),
  input('empty id', '400 INVALID_AGGREGATE_ID', (u) => http(u, '/v1/aggregates/bank_account//commands/Deposit', post('{"amount":1}'))),
  input('id of 300 bytes', '400 INVALID_AGGREGATE_ID', (u) => http(u, command('i'.repeat(300), 'Deposit'), post('{"amount":1}'))),
  input('id of 300 bytes, read', '400 INVALID_AGGREGATE_ID', (u) => http(u, `/v1/aggregates/bank_account/${'r'.repeat(300)}/events`)),
  input('id not UTF-8 (%FF%FE)', ['400 INVALID_AGGREGATE_ID', '400 MALFORMED_REQUEST'], (u) =>
    http(u, '/v1/aggregates/bank_account/%FF%FE/commands/Deposit', post('{"amount":1}')),
  ),
  // Batches of the wrong shape.
  input('batch: commands not an array', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/commands', post('{"commands":"all"}'))),
  input('batch: id of the wrong type', '400 INVALID_ARGUMENT', (u) =>
    http(u, '/v1/commands', post('{"commands":[{"aggregate":"bank_account","id":7,"command":"Deposit"}]}')),
  ),
  input('batch: unknown field', '400 INVALID_ARGUMENT', (u) =>
    http(u, '/v1/commands', post('{"commands":[{"aggregate":"bank_account","id":"bad-1","command":"Deposit","amount":1}]}')),
  ),
  // Query parameters and headers of reads.
  input('from=abc', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/events?from=abc')),
  input('limit=999999', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/events?limit=999999')),
  input('backwards=maybe', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/aggregates/bank_account/bad-1/events?backwards=maybe')),
  input('Last-Event-ID "abc"', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/subscribe', { headers: { 'last-event-id': 'abc' } })),
  // Remote subscribers and projections. The reset names the test's own subscriber: were the bad
  // body taken, its stream would jump back, which its checks would see.
  input('subscriber name with a space', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/subscribe?subscriber=bad%20name')),
  input('ack: position "x"', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/subscribers/bad-input/ack', post('{"position":"x"}'))),
  input('ack: unknown field', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/subscribers/bad-input/ack', post('{"position":0,"upto":1}'))),
  input('ack: past the log', '400 INVALID_ARGUMENT', (u) => http(u, '/v1/subscribers/bad-input/ack', post('{"position":1000000000000}'))),
  input('ack: bad JSON', '400 MALFORMED_REQUEST', (u) => http(u, '/v1/subscribers/bad-input/ack', post('{"position":'))),
  input('ack: name with a slash', ['400 INVALID_ARGUMENT', '404 ROUTE_NOT_FOUND'], (u) =>
    http(u, `/v1/subscribers/${encodeURIComponent('a/b')}/ack`, post('{"position":0}')),
  ),
  input('reset: unknown projection', '404 PROJECTION_NOT_FOUND', (u) =>
    http(u, '/v1/projections/nothing-here/reset', post('{"position":0}')),
  ),
  input('reset: position "zero"', '400 INVALID_ARGUMENT', (u) =>
    http(u, '/v1/projections/torture-balances/reset', post('{"position":"zero"}')),
  ),
  // A module's output the runtime must refuse (test/fixtures/rogue.wat): each fails its own command
  // with the documented code and writes nothing (the log checks see to that). The only 5xx here:
  // a module bug is a fault, not a malformed request.
  input('guest event holding a msgpack extension', '500 GUEST_FAULT', (u) => http(u, rogue('Ext'), post('{}'))),
  input('guest event holding 10^18', '500 GUEST_FAULT', (u) => http(u, rogue('Huge'), post('{}'))),
  input('guest event nested 70 levels', '500 GUEST_FAULT', (u) => http(u, rogue('Deep'), post('{}'))),
  input('guest rejection data holding 10^18', '500 GUEST_FAULT', (u) => http(u, rogue('Reject'), post('{}'))),
  input('guest result of 5,000 events', '422 TOO_MANY_EVENTS', (u) => http(u, rogue('Many'), post('{}'))),
  input('guest event of 2 MiB', '422 EVENT_TOO_LARGE', (u) => http(u, rogue('Big'), post('{}'))),
  // Modules.
  input('broken module (garbage bytes)', '400 MODULE_INVALID', (u) =>
    http(u, '/v1/modules/bank_account', put(Buffer.from('not a module at all'))),
  ),
  input('broken module (wasm header only)', '400 MODULE_INVALID', (u) =>
    http(u, '/v1/modules/bank_account', put(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]))),
  ),
  input('broken module (truncated copy)', '400 MODULE_INVALID', (u) =>
    http(u, '/v1/modules/counter', put(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0x60]))),
  ),
  input('module name "../x"', '400 INVALID_ARGUMENT', (u) => http(u, `/v1/modules/${encodeURIComponent('../x')}`, put(Buffer.from('x')))),
  input('module as JSON', '415 UNSUPPORTED_MEDIA_TYPE', (u) => http(u, '/v1/modules/bank_account', put('{}', 'application/json'))),
  // Bodies cut short on the wire.
  input('truncated body (Content-Length 40, 10 bytes sent)', '400 MALFORMED_REQUEST', (u) =>
    raw(u, head(command('bad-1', 'Deposit'), 'Content-Type: application/json\r\nContent-Length: 40\r\n') + '{"amount":'),
  ),
  input('truncated chunked body', '400 MALFORMED_REQUEST', (u) =>
    raw(u, head(command('bad-1', 'Deposit'), 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n') + '20\r\n{"amount":'),
  ),
  input('Content-Length "abc"', '400 MALFORMED_REQUEST', (u) =>
    raw(u, head(command('bad-1', 'Deposit'), 'Content-Type: application/json\r\nContent-Length: abc\r\n') + '{}'),
  ),
];

/**
 * Send the catalogue over and over, in a shuffled order with a pause between requests, until
 * `stopped()`. A request that lost its connection (a SIGKILL) goes again to the next generation.
 */
export async function sendBadInputs(
  runtime: RuntimeUnderTest,
  stopped: () => boolean,
  random: () => number,
  pauseMs: number,
): Promise<BadInputResult[]> {
  const results: BadInputResult[] = [];
  while (!stopped()) {
    const order = BAD_INPUTS.map((input) => ({ input, key: random() })).sort((a, b) => a.key - b.key);
    for (const { input } of order) {
      if (stopped()) break;
      let generation = await runtime.serving();
      for (;;) {
        try {
          const answer = await input.send(generation.url);
          // Every expectation is a 4xx but the rogue module's faults, which the catalogue names as 500s.
          const ok = input.expected.includes(`${answer.status} ${answer.code}`) && answer.status >= 400;
          results.push({ name: input.name, ...answer, expected: input.expected.join(' or '), ok, generation: generation.index });
          break;
        } catch (error) {
          if (!(error instanceof ConnectionLost)) throw error;
          generation = await runtime.retryTarget();
        }
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  return results;
}
