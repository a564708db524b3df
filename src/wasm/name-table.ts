/**
 * The command and event names of one module, msgpack-encoded once. The hot path never encodes
 * or decodes a name: commands are framed with their pre-encoded bytes, and an event type in a
 * guest's result is matched byte for byte against the names the module declared, which both
 * avoids a string allocation per event and checks that the module emits only what it declared.
 */
import { encodeString } from './msgpack-frames.js';

export class NameTable {
  private readonly encoded = new Map<string, Uint8Array>();
  /** Entries of `names`, in order, with the body bytes (no header) of each. */
  private readonly bodies: { name: string; body: Uint8Array }[] = [];

  constructor(names: readonly string[]) {
    for (const name of names) {
      const encoded = encodeString(name);
      this.encoded.set(name, encoded);
      this.bodies.push({ name, body: Buffer.from(name, 'utf8') });
    }
  }

  /** The msgpack string of `name`, header included, when the table has it. */
  encode(name: string): Uint8Array | undefined {
    return this.encoded.get(name);
  }

  /** The name spelled by the UTF-8 bytes `[start, end)` of `bytes`, when the table has it. */
  find(bytes: Uint8Array, start: number, end: number): string | undefined {
    const length = end - start;
    for (const { name, body } of this.bodies) {
      if (body.length !== length) continue;
      let i = 0;
      while (i < length && body[i] === bytes[start + i]) i++;
      if (i === length) return name;
    }
    return undefined;
  }
}
