/**
 * Reading a guest's result (docs/abi.md, "Result"): `[0, [[type, data], ...]]` or
 * `[1, code, message, data]`. Event data is kept as the guest's bytes (copied out of guest
 * memory) for the store; event types must be ones the module declared, matched without decoding.
 *
 * Before anything is accepted, each event's data and the rejection's data are checked against the
 * value rule (msgpack-check.ts) and decoded once: the decoded value is what the caller is answered
 * with, so nothing that could fail to decode is ever written. The limits are checked before the
 * events are copied: a guest that returns three million events is refused at the array header.
 * A malformed result throws a `FrameError` (the caller reports a `GUEST_FAULT`); a result over a
 * limit throws `TOO_MANY_EVENTS` or `EVENT_TOO_LARGE`.
 */
import { ThaloError } from '../errors.js';
import { unpackValue } from '../json-values.js';
import { checkValue } from './msgpack-check.js';
import { FrameError } from './msgpack-frames.js';
import type { FrameReader } from './msgpack-frames.js';
import type { NameTable } from './name-table.js';
import type { EmittedEvent, HandleOutcome } from './types.js';

/** What one command's result may hold. */
export interface ResultLimits {
  /** Events one command may return. */
  maxEvents: number;
  /** Bytes of one event's msgpack data. */
  maxEventBytes: number;
}

/** Read the result at the reader's range; `declared` holds the module's event types. */
export function readResult(reader: FrameReader, declared: NameTable, limits: ResultLimits, command: string): HandleOutcome {
  const length = reader.arrayHeader();
  const tag = reader.smallUint();
  if (tag === 0 && length === 2) {
    const count = reader.arrayHeader();
    if (count > limits.maxEvents) {
      throw new ThaloError(
        'TOO_MANY_EVENTS',
        `${command} returned ${count} events; one command may append at most ${limits.maxEvents} (--max-events-per-command)`,
        {
          data: { command, count, limit: limits.maxEvents },
        },
      );
    }
    const events = new Array<EmittedEvent>(count);
    for (let i = 0; i < count; i++) {
      if (reader.arrayHeader() !== 2) throw new FrameError('an event must be [type, data]');
      const typeLength = reader.stringLength();
      const type = declared.find(reader.bytes, reader.offset - typeLength, reader.offset);
      if (type === undefined) {
        const spelled = Buffer.from(reader.bytes.subarray(reader.offset - typeLength, reader.offset)).toString('utf8');
        throw new FrameError(`event type ${JSON.stringify(spelled)} is not one of the events thalo_describe lists`);
      }
      const start = reader.offset;
      const end = checkValue(reader.bytes, start, reader.end, `event ${i} (${type}): data`);
      if (end - start > limits.maxEventBytes) {
        throw new ThaloError(
          'EVENT_TOO_LARGE',
          `${command} returned event ${i} (${type}) of ${end - start} bytes; an event may take at most ${limits.maxEventBytes} (--max-event-bytes)`,
          {
            data: { command, type, size: end - start, limit: limits.maxEventBytes },
          },
        );
      }
      reader.offset = end;
      const data = reader.bytes.slice(start, end);
      events[i] = { type, data, value: unpackValue(data) };
    }
    if (reader.offset !== reader.end) throw new FrameError('trailing bytes after the result');
    return { kind: 'events', events };
  }
  if (tag === 1 && length === 4) {
    const code = reader.string();
    const message = reader.string();
    const start = reader.offset;
    const end = checkValue(reader.bytes, start, reader.end, 'the rejection data');
    reader.offset = end;
    if (reader.offset !== reader.end) throw new FrameError('trailing bytes after the result');
    const outcome: HandleOutcome = { kind: 'rejected', code, message };
    if (!(end - start === 1 && reader.bytes[start] === 0xc0)) outcome.data = unpackValue(reader.bytes.subarray(start, end));
    return outcome;
  }
  throw new FrameError(`unknown result: tag ${tag} with ${length} elements`);
}
