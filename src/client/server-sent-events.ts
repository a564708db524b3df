/**
 * Reading a `text/event-stream` body (https://html.spec.whatwg.org/multipage/server-sent-events.html)
 * with `eventsource-parser`, which follows the spec's line rules: LF, CRLF and a bare CR all end
 * a line (also when a CRLF is split between two chunks), `event:` names the message's type,
 * `retry:` sets the reconnection delay, a message without `data:` is not dispatched. The parser
 * written here before it ignored `retry:` and bare CRs, and the server's tests read its streams
 * through this function, so a fault in it could hide one in the server.
 */
import { createParser } from 'eventsource-parser';

/**
 * One item of a text/event-stream, in arrival order: a message (`data`, with `id` and `event`
 * when the server sent them), a comment line's text (`comment`), or a `retry:` line's delay.
 */
export interface SseMessage {
  id?: string;
  /** The message's type when not the default: the runtime sends `error` to end a subscription. */
  event?: string;
  data?: string;
  comment?: string;
  /** The reconnection delay the server asks for, in milliseconds (a `retry:` line). */
  retry?: number;
}

/**
 * Parse a text/event-stream body into messages, comments and retry delays, in arrival order.
 * Comments carry no event; the runtime sends them as keep-alives and to say where a stream
 * restarts after a reset. A message the body ends in the middle of is dropped, as the spec says.
 *
 * @example
 *   for await (const message of readServerSentEvents(response.body!)) {
 *     if (message.data !== undefined) console.log(message.id, JSON.parse(message.data));
 *   }
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  // The parser calls back synchronously inside feed(); what it found waits here to be yielded,
  // so a slow consumer holds the body's reading back instead of piling messages up.
  let ready: SseMessage[] = [];
  const parser = createParser({
    onEvent: ({ id, event, data }) => {
      const message: SseMessage = { data };
      if (id !== undefined) message.id = id;
      if (event !== undefined) message.event = event;
      ready.push(message);
    },
    onComment: (comment) => ready.push({ comment }),
    onRetry: (retry) => ready.push({ retry }),
    // Unknown fields and a `retry:` that is not a number are ignored, as the spec says.
  });
  const decoder = new TextDecoder();
  let endsInCr = false;
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== '') endsInCr = text.endsWith('\r');
    parser.feed(text);
    const found = ready;
    ready = [];
    yield* found;
  }
  // The parser holds a CR at the end of a chunk until it sees whether an LF follows; at the end
  // of the body none will, and that CR still ends its line (the blank line of a last message).
  parser.feed(decoder.decode() + (endsInCr ? '\n' : ''));
  yield* ready;
}
