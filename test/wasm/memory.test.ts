// The guest SDK frees what it no longer needs: dropped states and each call's garbage.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModule } from '../../src/wasm/index.js';

describe('guest memory', () => {
  it('stays flat while states are created and dropped', async () => {
    const instance = (await loadModule(join('modules', 'todos.wasm'))).instantiate();
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      const handles: number[] = [];
      for (let i = 0; i < 3_000; i++) {
        const handle = instance.create(`list-${i}`);
        const outcome = instance.handle(handle, 'AddTodo', { id: `todo-${i}`, title: 'a title of some length '.repeat(4) });
        if (outcome.kind !== 'events') throw new Error(outcome.code);
        instance.apply(handle, outcome.events);
        handles.push(handle);
      }
      for (const handle of handles) instance.drop(handle);
      sizes.push(instance.memoryBytes);
    }
    // The first round sizes the heap; later rounds reuse what the dropped states freed.
    expect(sizes.slice(1)).toEqual([sizes[0], sizes[0], sizes[0]]);
  });

  it('stays flat over many commands on one state', async () => {
    const instance = (await loadModule(join('modules', 'counter.wasm'))).instantiate();
    const handle = instance.create('c');
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        const outcome = instance.handle(handle, 'Increment', { amount: 1 });
        if (outcome.kind === 'events') instance.apply(handle, outcome.events);
      }
      return instance.memoryBytes;
    };
    const warm = run(20_000);
    expect(run(100_000)).toBe(warm);
  });
});
