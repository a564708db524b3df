/**
 * Which live node owns an aggregate: rendezvous (highest-random-weight) hashing of its stream
 * name over the nodes' ids. Every node computes the same owner from the same member list, with
 * nothing to coordinate, and a node joining or leaving moves only the keys it wins or held (about
 * 1/N of them): every other key keeps the node that had the highest weight before.
 *
 * The weight of (node, key) is 64 bits made of two 32-bit halves: the key's two string hashes
 * (murmur3's mixing, two seeds), each xored with the node's own pair and finished with murmur3's
 * `fmix32`, a bijection with full avalanche. The key is hashed once per command and the node ids
 * once per member list, so owning a command costs two passes over its stream name and two
 * finalisers per node: no crypto, no allocation.
 *
 * @example
 *   const ring = new Rendezvous(['node-a', 'node-b', 'node-c']);
 *   ring.ownerOf('account-42');   // 'node-b', on every node with the same list
 */

const SEED_HIGH = 0x9747b28c;
const SEED_LOW = 0x5bd1e995;

/** murmur3's 32-bit finaliser: every input bit flips each output bit with probability ~1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of `key`'s UTF-16 code units with murmur3's block mixing, seeded. */
export function hash32(key: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < key.length; i++) {
    let k = Math.imul(key.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ key.length);
}

interface Node {
  id: string;
  high: number;
  low: number;
}

/** The owners of keys over one member list. Build a new one when the list changes. */
export class Rendezvous {
  private readonly nodes: Node[];

  /** `ids`: the live nodes' ids; their order does not matter. */
  constructor(ids: Iterable<string>) {
    this.nodes = [...new Set(ids)].sort().map((id) => ({ id, high: hash32(id, SEED_HIGH), low: hash32(id, SEED_LOW) }));
  }

  get size(): number {
    return this.nodes.length;
  }

  /** The id of the node that owns `key` (a stream name), or undefined when there are no nodes. */
  ownerOf(key: string): string | undefined {
    const keyHigh = hash32(key, SEED_HIGH);
    const keyLow = hash32(key, SEED_LOW);
    let best: Node | undefined;
    let bestHigh = -1;
    let bestLow = -1;
    for (const node of this.nodes) {
      const high = fmix32(keyHigh ^ node.high);
      if (high < bestHigh) continue;
      const low = fmix32(keyLow ^ node.low ^ high);
      // Nodes are sorted by id, so an exact 64-bit tie (about 2^-64) goes to the same node everywhere.
      if (high > bestHigh || low > bestLow) {
        best = node;
        bestHigh = high;
        bestLow = low;
      }
    }
    return best?.id;
  }
}
