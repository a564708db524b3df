/**
 * One home for each rule (issue 14): the wire types live in src/protocol/, the worker and the
 * client reach the engine or the server through none of their imports (type imports included),
 * and the aggregate-name pattern, the stream naming and the header names are written once in src/.
 * Read from the source's import statements, so a type import added back fails here.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve('.');

/** Every file `entry` reaches through relative imports and re-exports (static, dynamic and type-only). */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      queue.push(resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts')));
    }
  }
  return [...seen].map((file) => relative(ROOT, file)).sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The files of src/ and workers/ whose text holds `needle`. */
function filesHolding(needle: string): string[] {
  return [...sourceFiles('src'), ...sourceFiles('workers')].filter((file) => readFileSync(file, 'utf8').includes(needle)).sort();
}

describe('one home for each rule', () => {
  it('the worker never reaches src/engine/ or src/server/', () => {
    const reached = reachable('workers/aggregate-worker.ts');
    expect(reached).toContain('workers/batch-executor.ts');
    expect(reached.filter((file) => file.startsWith('src/engine/') || file.startsWith('src/server/'))).toEqual([]);
  });

  it('the client never reaches src/engine/ or src/server/; it reads the API from src/protocol/', () => {
    const reached = reachable('src/client/index.ts');
    expect(reached).toContain('src/protocol/http.ts');
    expect(reached.filter((file) => file.startsWith('src/engine/') || file.startsWith('src/server/'))).toEqual([]);
  });

  it('src/protocol/ never reaches src/engine/', () => {
    const reached = ['commands', 'decode-event', 'http', 'messages'].flatMap((name) => reachable(`src/protocol/${name}.ts`));
    expect(reached.filter((file) => file.startsWith('src/engine/'))).toEqual([]);
  });

  it('writes the aggregate-name pattern, the stream of an aggregate and the header names once', () => {
    expect(filesHolding('[A-Za-z][A-Za-z0-9_]{0,63}')).toEqual(['src/aggregate-name.ts']);
    expect(filesHolding('${aggregate}-${id}')).toEqual(['src/aggregate-name.ts']);
    expect(filesHolding("stream.indexOf('-')")).toEqual(['src/aggregate-name.ts']);
    for (const header of ['thalo-expected-version', 'thalo-command-id', 'thalo-correlation-id', 'thalo-causation-id']) {
      expect(filesHolding(`'${header}'`), header).toEqual(['src/protocol/http.ts']);
    }
  });

  it('writes the expected-version rule and its conflict once', () => {
    expect(filesHolding("'WRONG_EXPECTED_VERSION', `")).toEqual(['src/expected-version.ts']);
    expect(filesHolding("=== 'no_stream'")).toEqual(['src/expected-version.ts']);
  });
});
