// The loader's rewrite of a module's binary (src/wasm/memory-limit.ts, grow-probe.ts): the memory's
// maximum becomes the cap, each memory.grow goes through the probe, and nothing else changes.
import { describe, expect, it } from 'vitest';
import { GROW_FAILED_EXPORT } from '../../src/wasm/grow-probe.js';
import { limitMemory } from '../../src/wasm/memory-limit.js';
import { compileWatText } from '../fixtures/load-time-modules.js';

/** A module using the instruction families the probe's decoder must step over. */
const MIXED = `(module
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $seven $eleven)
  (type $t (func (result i32)))
  (global $g (mut i64) (i64.const -5))
  (func $seven (result i32) i32.const 7)
  (func $eleven (result i32) i32.const 11)
  (func (export "mix") (param $x i32) (result i32)
    (local $v v128) (local $f f64)
    (memory.fill (i32.const 100) (i32.const 3) (i32.const 16))
    (memory.copy (i32.const 200) (i32.const 100) (i32.const 16))
    (local.set $v (i32x4.add (v128.const i32x4 1 2 3 4) (v128.load offset=0 align=4 (i32.const 200))))
    (local.set $v (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get $v) (local.get $v)))
    (local.set $f (f64.const 2.75))
    (global.set $g (i64.add (global.get $g) (i64.const 1000000000000)))
    (block $out (result i32)
      (block $one
        (block $zero
          (br_table $zero $one (local.get $x)))
        (br $out (i32.add (call_indirect (type $t) (i32.const 0)) (i32x4.extract_lane 1 (local.get $v)))))
      (select (result i32)
        (i32.add (call_indirect (type $t) (i32.const 1)) (i32.trunc_sat_f64_s (local.get $f)))
        (i32.wrap_i64 (global.get $g))
        (i32.extend8_s (local.get $x)))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))`;

async function instantiate(bytes: Uint8Array): Promise<Record<string, any>> {
  const module = await WebAssembly.compile(bytes);
  return new WebAssembly.Instance(module, {}).exports as Record<string, any>;
}

describe('limitMemory', () => {
  it('keeps every other instruction as it was, and routes memory.grow through the probe', async () => {
    const original = await compileWatText(MIXED);
    const limited = limitMemory(original, 3 * 65536);
    expect(limited.probed).toBe(true);
    expect(limited.limit).toEqual({ bytes: 3 * 65536, setBy: 'runtime' });
    const [before, after] = await Promise.all([instantiate(original), instantiate(limited.bytes)]);
    for (const x of [0, 1, 2, 200]) expect(after.mix(x)).toBe(before.mix(x));
    expect(after.grow(1)).toBe(1);
    expect(after[GROW_FAILED_EXPORT].value).toBe(0);
    // 2 pages now; 2 more would make 4, over the cap of 3.
    expect(after.grow(2)).toBe(-1);
    expect(after[GROW_FAILED_EXPORT].value).toBe(2);
    expect(after.size()).toBe(2);
    expect(before.grow(2)).toBe(1);
  });

  it('leaves the code alone when there is no memory.grow, and keeps a lower maximum of the module', async () => {
    const limited = limitMemory(
      await compileWatText('(module (memory (export "memory") 1 2) (func (export "f") (result i32) (i32.const 1)))'),
      4 * 65536,
    );
    expect(limited.probed).toBe(false);
    expect(limited.limit).toEqual({ bytes: 2 * 65536, setBy: 'module' });
    expect((await instantiate(limited.bytes)).f()).toBe(1);
  });
});
