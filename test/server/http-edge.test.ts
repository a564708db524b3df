/**
 * The HTTP edge against `thalo-runtime` as a process: a body that never finishes arriving gets
 * `408 REQUEST_TIMEOUT` while a live subscription opened before it stays open; connections past
 * `--max-connections` are closed and logged; the expected-version header past 2^53 - 1 is refused
 * naming the header and quoting it as sent; a request forwarded to a cluster node is refused
 * unrun; the bearer scheme in any case; `/readyz` without the token shows only its status.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { execute, request, startRuntime, thalo } from './runtime-process.js';
import { SseReader } from './sse-reader.js';

/** The port of a runtime's base URL. */
const portOf = (url: string) => Number(new URL(url).port);

/** What a raw HTTP answer says: its status and its JSON body. */
function parseAnswer(raw: string): { status: number; body: any } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const text = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { status, body: text ? JSON.parse(text) : undefined };
}

/** Send `text` on a new connection and resolve with everything received until the server closes it. */
function untilClosed(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk) => (received += chunk));
    // A refused connection may be reset under a write; what counts is what came back.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
}

/** A keep-alive connection that has had one answer, so the server holds it open and counts it. */
function answeredConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    socket.once('data', (chunk) =>
      String(chunk).startsWith('HTTP/1.1 200') ? resolve(socket) : reject(new Error(`unexpected answer ${String(chunk)}`)),
    );
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before an answer')));
  });
}

describe('--request-timeout', () => {
  it('answers a body that never finishes with 408 REQUEST_TIMEOUT, and leaves an open live subscription alone', async () => {
    const runtime = await startRuntime({ args: ['--request-timeout', '1000'] });
    const live = new SseReader(`${runtime.url}/v1/subscribe?from=1`);
    await live.opened;
    expect(live.status).toBe(200);

    // Ten bytes of a hundred promised, then nothing: only the timeout can end it.
    const answer = await untilClosed(
      portOf(runtime.url),
      'POST /v1/aggregates/counter/slow/commands/Increment HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"amount":',
    );
    expect(parseAnswer(answer)).toMatchObject({ status: 408, body: { code: 'REQUEST_TIMEOUT' } });
    expect(parseAnswer(answer).body.message).toContain('1000 ms');

    // The subscription, open for longer than the timeout by now, still delivers.
    const { body } = await execute(runtime.url, 'counter', 'after-timeout', 'Increment', { amount: 1 });
    await live.until((reader) => reader.ids.includes(body.events[0].position));
    await live.close();
    expect(await runtime.stop()).toBe(0);
  }, 20_000);
});

describe('--max-connections', () => {
  it('closes the connection past the limit at once, logs it, and takes new ones once one closes', async () => {
    const runtime = await startRuntime({ args: ['--max-connections', '5'] });
    expect(runtime.logs.find((l) => l.msg.startsWith('listening on'))).toMatchObject({ maxConnections: 5 });
    const port = portOf(runtime.url);
    const held = await Promise.all(Array.from({ length: 5 }, () => answeredConnection(port)));

    expect(await untilClosed(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n')).toBe('');
    const line = await runtime.waitForLog((l) => l.msg.startsWith('refused'));
    expect(line).toMatchObject({ level: 40, maxConnections: 5 });
    expect(line.refused).toBeGreaterThanOrEqual(1);
    expect(line.msg).toContain('--max-connections');

    // The runtime notices a closed connection on its own time: ask until a new one is answered.
    held.pop()!.destroy();
    let answered = '';
    for (let attempt = 0; attempt < 200 && !answered.startsWith('HTTP/1.1 200'); attempt++) {
      answered = await untilClosed(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    }
    expect(answered).toMatch(/^HTTP\/1\.1 200/);
    for (const socket of held) socket.destroy();
    expect(await runtime.stop()).toBe(0);
  }, 20_000);
});

describe('the expected version', () => {
  it('is refused past 2^53 - 1 naming the header and quoting the value as sent', async () => {
    const runtime = await startRuntime();
    const big = await execute(runtime.url, 'counter', 'ev', 'Increment', { amount: 1 }, { 'thalo-expected-version': '9007199254740993' });
    expect(big).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(big.body.message).toContain('header Thalo-Expected-Version');
    expect(big.body.message).toContain('"9007199254740993"');
    expect(big.body.message).not.toContain('options.expectedVersion');
    // The largest safe integer is a version like any other (this stream is not there yet).
    const largest = await execute(
      runtime.url,
      'counter',
      'ev',
      'Increment',
      { amount: 1 },
      { 'thalo-expected-version': String(Number.MAX_SAFE_INTEGER) },
    );
    expect(largest).toMatchObject({ status: 409, body: { code: 'WRONG_EXPECTED_VERSION' } });

    // In a batch, JSON parsing rounds the number before anyone sees it: refused, and said so.
    const batch = await request(`${runtime.url}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"commands":[{"aggregate":"counter","id":"ev","command":"Increment","expectedVersion":9007199254740993}]}',
    });
    expect(batch).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(batch.body.message).toContain('commands[0].expectedVersion');
    expect(batch.body.message).toContain('cannot carry exactly');

    // The CLI refuses it before sending anything (it would round it too).
    const cli = await thalo([
      'execute',
      'counter',
      'ev',
      'Increment',
      '{"amount":1}',
      '--expected-version',
      '9007199254740993',
      '--url',
      runtime.url,
    ]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(
      '--expected-version must be "any", "no_stream", "exists" or an integer from 0 to 9007199254740991, got "9007199254740993"',
    );
    expect((await request(`${runtime.url}/v1/events`)).body.events).toEqual([]);
    expect(await runtime.stop()).toBe(0);
  }, 20_000);
});

describe('a request forwarded by a cluster node', () => {
  it('is refused unrun with 503 NOT_ADDRESSED_NODE by a runtime that is not the node it was forwarded to', async () => {
    const runtime = await startRuntime({ args: ['--workers', '1'] });
    const forwarded = { 'thalo-cluster-token': 't', 'thalo-forwarded-from': 'node-a', 'thalo-forwarded-to': 'node-b' };
    const single = await execute(runtime.url, 'counter', 'squat', 'Increment', { amount: 1 }, forwarded);
    expect(single).toMatchObject({ status: 503, body: { code: 'NOT_ADDRESSED_NODE', data: { node: 'node-b' } } });
    expect(single.body.message).toContain('this runtime is not a cluster node (it was forwarded to node node-b');
    const batch = await request(`${runtime.url}/v1/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forwarded },
      body: JSON.stringify({ commands: [{ aggregate: 'counter', id: 'squat', command: 'Increment' }] }),
    });
    expect(batch).toMatchObject({ status: 503, body: { code: 'NOT_ADDRESSED_NODE' } });
    expect((await request(`${runtime.url}/v1/events`)).body.events).toEqual([]);
    expect(await runtime.stop()).toBe(0);
  }, 20_000);
});

describe('the token', () => {
  it('takes the bearer scheme in any case, and /readyz shows the log position and modules only with it', async () => {
    const token = 'edge-token';
    const runtime = await startRuntime({ env: { THALO_TOKEN: token } });
    const events = (authorization?: string) =>
      request(`${runtime.url}/v1/events`, authorization === undefined ? {} : { headers: { authorization } });
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) expect((await events(`${scheme} ${token}`)).status).toBe(200);
    for (const wrong of [`Bearer ${token}x`, `Basic ${token}`, `Bearer${token}`, token, `Bearer  `]) {
      expect(await events(wrong)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    }

    const ready = (authorization?: string) =>
      request(`${runtime.url}/readyz`, authorization === undefined ? {} : { headers: { authorization } });
    expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(Object.keys((await ready()).body)).toEqual(['status']);
    expect(Object.keys((await ready('Bearer nope')).body)).toEqual(['status']);
    expect((await ready(`bearer ${token}`)).body).toEqual({ status: 'ready', modules: expect.any(Number), lastPosition: 0 });
    expect(await runtime.stop()).toBe(0);

    // Without a token, everyone sees it all.
    const open = await startRuntime();
    expect((await request(`${open.url}/readyz`)).body).toEqual({ status: 'ready', modules: expect.any(Number), lastPosition: 0 });
    expect(await open.stop()).toBe(0);
  }, 20_000);
});
