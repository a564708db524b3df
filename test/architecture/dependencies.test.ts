/**
 * The dependency rules of docs/architecture.md, checked on the sources: no folder imports a folder
 * that imports it back (type imports included), and the worker never imports the engine.
 * Folders are src/<name>/, each top-level file of src/ on its own (errors.ts, json-values.ts, …),
 * and workers/.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The unit a file belongs to: `src/store`, `src/errors.ts`, `workers`. */
function unitOf(file: string): string {
  const parts = relative(ROOT, file).split('/');
  if (parts[0] === 'workers') return 'workers';
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
}

/** `unit -> units it imports`, from every `import … from '…'` and `export … from '…'` with a relative path. */
function graph(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'workers'))]) {
    const from = unitOf(file);
    const targets = edges.get(from) ?? new Set<string>();
    edges.set(from, targets);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = unitOf(resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts')));
      if (target !== from) targets.add(target);
    }
  }
  return edges;
}

/** Every cycle of units, each as a path `a -> b -> … -> a` (one per strongly connected group). */
function cycles(edges: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const start of [...edges.keys()].sort()) {
    // A path from start back to start through units not yet reported.
    const stack: string[][] = [[start]];
    const visited = new Set<string>();
    while (stack.length > 0) {
      const path = stack.pop()!;
      const last = path[path.length - 1]!;
      for (const next of [...(edges.get(last) ?? [])].sort()) {
        if (next === start && !path.some((unit) => seen.has(unit))) {
          found.push([...path, start].join(' -> '));
          for (const unit of path) seen.add(unit);
        } else if (!visited.has(next) && next !== start) {
          visited.add(next);
          stack.push([...path, next]);
        }
      }
    }
  }
  return found;
}

describe('dependencies between folders', () => {
  const edges = graph();

  it('finds a cycle when there is one (the check checked)', () => {
    const sample = new Map([
      ['src/a', new Set(['src/b'])],
      ['src/b', new Set(['src/c'])],
      ['src/c', new Set(['src/a', 'src/d'])],
      ['src/d', new Set<string>()],
    ]);
    expect(cycles(sample)).toEqual(['src/a -> src/b -> src/c -> src/a']);
    expect(edges.get('src/engine')?.has('src/store')).toBe(true);
  });

  it('has no cycles: no folder imports a folder that imports it back', () => {
    expect(cycles(edges)).toEqual([]);
  });

  it('keeps the worker away from the engine, and store and wasm away from the layers above them', () => {
    expect([...(edges.get('workers') ?? [])].filter((unit) => unit === 'src/engine')).toEqual([]);
    for (const low of ['src/store', 'src/wasm']) {
      const above = ['src/engine', 'src/server', 'src/cli', 'src/client', 'src/projections', 'src/relays'];
      expect(
        [...(edges.get(low) ?? [])].filter((unit) => above.includes(unit)),
        `${low} imports`,
      ).toEqual([]);
    }
  });
});
