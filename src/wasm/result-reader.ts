/**
 * Reading a guest's result (docs/abi.md, "Result"): `[0, [[type, data], ...]]` or
 * `[1, code, message, data]`. Event data stays the guest's bytes (copied out of guest memory,
 * never decoded); event types must be ones the module declared, matched without decoding.
 * Anything else throws, and the caller reports a `GUEST_FAULT`.
 */
import { unpack } from 'msgpackr';
import { FrameError } from './msgpack-frames.js';
import type { FrameReader } from './msgpack-frames.js';
import type { NameTable } from './name-table.js';
import type { GuestEvent, HandleOutcome } from './types.js';

/** Read the result at the reader's range; `declared` holds the module's event types. */
export function readResult(reader: FrameReader, declared: NameTable): HandleOutcome {
  const length = reader.arrayHeader();
  const tag = reader.smallUint();
  if (tag === 0 && length === 2) {
    const count = reader.arrayHeader();
    const events = new Array<GuestEvent>(count);
    for (let i = 0; i < count; i++) {
      if (reader.arrayHeader() !== 2) throw new FrameError('an event must be [type, data]');
      const typeLength = reader.stringLength();
      const type = declared.find(reader.bytes, reader.offset - typeLength, reader.offset);
      if (type === undefined) {
        const spelled = Buffer.from(reader.bytes.subarray(reader.offset - typeLength, reader.offset)).toString('utf8');
        throw new FrameError(`event type ${JSON.stringify(spelled)} is not one of the events thalo_describe lists`);
      }
      const [start, end] = reader.skip();
      events[i] = { type, data: reader.bytes.slice(start, end) };
    }
    if (reader.offset !== reader.end) throw new FrameError('trailing bytes after the result');
    return { kind: 'events', events };
  }
  if (tag === 1 && length === 4) {
    const code = reader.string();
    const message = reader.string();
    const [start, end] = reader.skip();
    if (reader.offset !== reader.end) throw new FrameError('trailing bytes after the result');
    const outcome: HandleOutcome = { kind: 'rejected', code, message };
    if (!(end - start === 1 && reader.bytes[start] === 0xc0)) outcome.data = unpack(reader.bytes.subarray(start, end));
    return outcome;
  }
  throw new FrameError(`unknown result: tag ${tag} with ${length} elements`);
}
