// `thalo build` as a process on the mistakes a compiler alone lets through or words badly: each
// fails with exit 1 and a message that says what to write, at the user's own line.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const THALO = resolve('dist/src/cli/thalo.js');
// Outside the repository: aggregates import the SDK from the package, wherever they sit.
const dir = mkdtempSync(join(tmpdir(), 'thalo-traps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = `import { Aggregate, Command, Event, Obj, Outcome, register } from "thalo-node/guest";\n`;
const EXPORTS = `export * from "thalo-node/guest/exports";\n`;
const AGGREGATE = `
@data class Thing extends Aggregate {
  n: i64 = 0;
  handle(command: Command, out: Outcome): void { out.emit("Done", new Obj()); }
  apply(event: Event): void {}
}
`;
const REGISTER = `register("thing", "1.0.0", ["Go"], ["Done"], (id: string): Aggregate => new Thing());\n`;

async function build(name: string, source: string): Promise<{ code: number; output: string }> {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'index.ts'), source);
  try {
    const { stdout, stderr } = await run(process.execPath, [THALO, 'build', join(dir, name), '-o', join(dir, 'out')]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('thalo build refuses, with the fix in the message', () => {
  it('builds the well-formed aggregate the cases below break', async () => {
    const { code, output } = await build('thing', HEADER + EXPORTS + AGGREGATE + REGISTER);
    expect(output).toContain('commands Go; events Done');
    expect(code).toBe(0);
  });

  it('a module that never calls register()', async () => {
    const { code, output } = await build('noregister', HEADER + EXPORTS + AGGREGATE);
    expect(code).toBe(1);
    expect(output).toContain('the module registers no aggregate (no commands): call register once at the top level of index.ts');
    expect(output).toContain('register("noregister", "1.0.0"');
  });

  it('an entry file without the exports line', async () => {
    const { code, output } = await build('noexports', HEADER + AGGREGATE + REGISTER);
    expect(code).toBe(1);
    expect(output).toContain('does not export the function thalo_abi_version');
    expect(output).toContain('add the line\n  export * from "thalo-node/guest/exports";\nto index.ts');
  });

  it('out.emit with a literal, at the line of the call', async () => {
    const source = HEADER + EXPORTS + AGGREGATE.replace('out.emit("Done", new Obj())', 'out.emit("Done", 42)') + REGISTER;
    const { code, output } = await build('literal', source);
    expect(code).toBe(1);
    // Line 6: the import, the exports line, a blank line, the class, its field, then handle.
    expect(output).toContain(`${join(dir, 'literal', 'index.ts')}:6:50: out.emit`);
    expect(output).toContain('out.emit(type, data): data must be a @data event class');
  });

  it('decode<T>() of a class that is not @data, at the line of the call', async () => {
    const source =
      HEADER +
      EXPORTS +
      `class Go { n: i64 = 0; }\n` +
      AGGREGATE.replace('out.emit("Done", new Obj());', 'command.decode<Go>(); out.noEvents();') +
      REGISTER;
    const { code, output } = await build('plain', source);
    expect(code).toBe(1);
    expect(output).toContain(
      `${join(dir, 'plain', 'index.ts')}:7:50: decode<Go>(): declare class Go @data (or give it read(data: Fields))`,
    );
  });

  it('npm run build:modules names the example that does not compile, builds the others and exits 1', async () => {
    const examples = join(dir, 'examples');
    for (const [name, source] of [
      ['good', HEADER + EXPORTS + AGGREGATE + REGISTER],
      ['broken', HEADER + EXPORTS + AGGREGATE.replace('n: i64 = 0;', 'n: i64 = "zero";') + REGISTER],
    ]) {
      mkdirSync(join(examples, name!), { recursive: true });
      writeFileSync(join(examples, name!, 'index.ts'), source!);
    }
    const { code, output } = await run(process.execPath, [resolve('dist/src/cli/build-examples.js'), examples]).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: e.stdout + e.stderr }),
    );
    expect(code).toBe(1);
    expect(output).toContain(`${join(examples, 'broken')}: compilation failed`);
    expect(output).toContain('good.wasm');
  });

  it('a @data class whose constructor needs an argument', async () => {
    const constructor = await build(
      'needsargs',
      HEADER + EXPORTS + `@data class E { n: i64 = 0; constructor(n: i64) { this.n = n; } }\n` + AGGREGATE + REGISTER,
    );
    expect(constructor.code).toBe(1);
    expect(constructor.output).toContain('@data class E: give the constructor parameter n a default value');
  });
});
