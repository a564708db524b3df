/**
 * The client's text/event-stream reader against the spec's line rules, fed in chunks cut at every
 * place (a field, a CRLF, a UTF-8 character split between two chunks), as a network delivers them.
 */
import { describe, expect, it } from 'vitest';
import { readServerSentEvents } from '../../src/client/index.js';
import type { SseMessage } from '../../src/client/index.js';

/** A body of `parts`, each its own chunk. */
function body(parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(typeof part === 'string' ? encoder.encode(part) : part);
      controller.close();
    },
  });
}

async function read(parts: (string | Uint8Array)[]): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readServerSentEvents(body(parts))) messages.push(message);
  return messages;
}

/** The same text cut into chunks at every position in turn, so each boundary is tried once. */
async function everySplit(text: string): Promise<SseMessage[][]> {
  const bytes = new TextEncoder().encode(text);
  const results: SseMessage[][] = [];
  for (let cut = 0; cut <= bytes.length; cut++) results.push(await read([bytes.slice(0, cut), bytes.slice(cut)]));
  return results;
}

const ERROR_DATA = JSON.stringify({ code: 'STORE_CORRUPTED', message: 'position 3 is damaged', data: { position: 3 } });

describe('readServerSentEvents', () => {
  it('reads the runtime stream: retry, comments, messages with ids, and the error event of a damaged position', async () => {
    const stream = `retry: 1000\n: from 1\n\nid: 1\ndata: {"position":1}\n\nid: 2\ndata: {"position":2}\n\n: keep-alive\n\nevent: error\ndata: ${ERROR_DATA}\n\n`;
    const expected: SseMessage[] = [
      { retry: 1000 },
      { comment: 'from 1' },
      { id: '1', data: '{"position":1}' },
      { id: '2', data: '{"position":2}' },
      { comment: 'keep-alive' },
      { event: 'error', data: ERROR_DATA },
    ];
    for (const messages of await everySplit(stream)) expect(messages).toEqual(expected);
  });

  it('ends lines at LF, CRLF and a bare CR alike, also when a CRLF falls between two chunks', async () => {
    const expected: SseMessage[] = [{ comment: 'hello' }, { id: '7', event: 'greeting', data: 'one\ntwo' }, { id: '8', data: 'three' }];
    for (const end of ['\n', '\r\n', '\r']) {
      const stream = [': hello', 'id: 7', 'event: greeting', 'data: one', 'data: two', '', 'id: 8', 'data: three', '', ''].join(end);
      for (const messages of await everySplit(stream)) expect(messages, JSON.stringify(end)).toEqual(expected);
    }
  });

  it('keeps a UTF-8 character whole when a chunk ends inside it', async () => {
    for (const messages of await everySplit('data: {"name":"Zoë 🦊"}\n\n')) expect(messages).toEqual([{ data: '{"name":"Zoë 🦊"}' }]);
  });

  it('drops a message the body ends in the middle of, and ignores unknown fields and a retry that is no number', async () => {
    expect(await read(['retry: soon\nfoo: bar\ndata: kept\n\n', 'id: 9\ndata: cut off\n'])).toEqual([{ data: 'kept' }]);
  });

  it('dispatches no message without data, as EventSource does', async () => {
    expect(await read(['id: 4\n\nevent: ping\n\ndata\n\n'])).toEqual([{ data: '' }]);
  });
});
