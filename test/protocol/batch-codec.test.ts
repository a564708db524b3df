/**
 * Issue 20: a batch crosses between the engine and a worker as one msgpack buffer
 * (src/protocol/batch-codec.ts). What a structured clone carried must arrive the same, and each
 * buffer must decode on its own: one engine writes to several workers, and a replaced worker has
 * read none of the earlier buffers.
 */
import { describe, expect, it } from 'vitest';
import { decodeBatchReply, decodeCommands, encodeBatchReply, encodeCommands } from '../../src/protocol/batch-codec.js';
import type { CommandMessage, ExecuteBatchReply } from '../../src/protocol/messages.js';

const command = (i: number, payload: unknown): CommandMessage => ({
  aggregate: 'counter',
  id: `c-${i}`,
  stream: `counter-c-${i}`,
  command: 'Increment',
  payload,
});

describe('batch codec', () => {
  it('carries commands with every kind of value and option as a structured clone does', () => {
    const commands: CommandMessage[] = [
      command(1, { amount: 1 }),
      command(2, {
        nested: { list: [1, 'two', null, true, 2.5, { deep: [[]] }] },
        big: Number.MAX_SAFE_INTEGER,
        small: -Number.MAX_SAFE_INTEGER,
      }),
      {
        ...command(3, 'text é😀'),
        expected: 'no_stream',
        commandId: 'cmd-3',
        correlationId: 'corr',
        causationId: 'cause',
        headers: { a: 'b' },
      },
      { ...command(4, []), expected: 7 },
      command(5, null),
    ];
    const bytes = encodeCommands(commands);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length); // its own exact buffer, safe to transfer
    expect(decodeCommands(bytes)).toEqual(structuredClone(commands));
  });

  it('carries replies: events, rejections with data, legacy BigInts, undecodable events, the stale-state count, the commits', () => {
    const reply: ExecuteBatchReply = {
      type: 'batch-result',
      replies: [
        {
          ok: true,
          version: 3,
          duplicate: false,
          events: [
            {
              position: 2 ** 40 + 1,
              stream: 's',
              seq: 3,
              id: 'e',
              type: 'Incremented',
              data: { amount: 1 },
              timestamp: 1764600000000,
              metadata: {},
            },
            {
              position: 9,
              stream: 's',
              seq: 4,
              id: 'f',
              type: 'Legacy',
              data: { huge: 2n ** 60n },
              timestamp: 1,
              metadata: { commandId: 'x' },
            },
            {
              position: 10,
              stream: 's',
              seq: 5,
              id: 'g',
              type: 'Bad',
              data: null,
              timestamp: 1,
              metadata: {},
              undecodable: { reason: 'r', base64: 'AA==' },
            },
          ],
        },
        { ok: false, error: { code: 'COMMAND_REJECTED', message: 'no', data: { code: 'INVALID_AMOUNT', data: [1, { x: null }] } } },
        { ok: false, error: { code: 'INTERNAL', message: 'boom' } },
      ],
      lastPosition: 10,
      cache: { hits: 2, misses: 1 },
      staleRetries: 4,
      commits: { count: 2, appends: 7, seconds: 0.0125 },
    };
    const decoded = decodeBatchReply(encodeBatchReply(reply));
    expect(decoded).toEqual(structuredClone(reply));
    const legacy = decoded.replies[0]!;
    expect(legacy.ok && (legacy.events[1]!.data as { huge: unknown }).huge).toBe(2n ** 60n);
  });

  it('decodes each buffer on its own, in any order, whatever was encoded or decoded before', () => {
    // Many object shapes, so that a codec that shared its shape table across buffers would misread.
    const batches = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => command(i, { [`field-${b}-${i % 70}`]: i, shared: b })),
    );
    const encoded = batches.map(encodeCommands);
    const reply = encodeBatchReply({
      type: 'batch-result',
      replies: [],
      lastPosition: 0,
      cache: { hits: 0, misses: 0 },
      staleRetries: 0,
      commits: { count: 0, appends: 0, seconds: 0 },
    });
    for (const i of [4, 2, 0, 3, 1]) expect(decodeCommands(encoded[i]!)).toEqual(batches[i]);
    expect(decodeBatchReply(reply).type).toBe('batch-result');
    expect(decodeCommands(encoded[0]!)).toEqual(batches[0]);
  });
});
