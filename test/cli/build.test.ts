// `thalo build` as a process: node dist/src/cli/thalo.js build <dir> -o <out>.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModule } from '../../src/wasm/index.js';

const run = promisify(execFile);
const THALO = resolve('dist/src/cli/thalo.js');
const dir = mkdtempSync(join(tmpdir(), 'thalo-build-'));
// Aggregates sit two levels below the project root, like modules/<name>/, so that their
// ../../guest/assembly imports resolve: scratch ones go to .tmp/<name>/.
mkdirSync('.tmp', { recursive: true });
const scratch: string[] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const path of scratch) rmSync(path, { recursive: true, force: true });
});

async function thalo(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [THALO, ...args], { cwd: resolve('.') });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** A scratch aggregate directory `.tmp/<prefix>XXXXXX` whose index.ts is `source`. */
function aggregateDir(prefix: string, source: string): string {
  const path = mkdtempSync(join(resolve('.tmp'), prefix));
  scratch.push(path);
  writeFileSync(join(path, 'index.ts'), source);
  return path;
}

describe('thalo build', () => {
  it('compiles an aggregate directory into a valid module named after it', async () => {
    const out = join(dir, 'out');
    const { code, output } = await thalo('build', 'modules/counter', '-o', out);
    expect(code).toBe(0);
    expect(output).toContain(`built ${join(out, 'counter.wasm')}`);
    const module = await loadModule(join(out, 'counter.wasm'));
    expect(module.name).toBe('counter');
    expect(module.description.commands).toEqual(['Increment']);
    expect(module.supportsSnapshots).toBe(true);
  });

  it("shows the compiler's message and exits 1 on a compile error, writing nothing", async () => {
    const broken = aggregateDir('broken_', `${readFileSync('modules/counter/index.ts', 'utf8')}\nconst x: i32 = "not a number";\n`);
    const out = join(dir, 'out2');
    const { code, output } = await thalo('build', broken, '-o', out);
    expect(code).toBe(1);
    expect(output).toContain('compilation failed');
    expect(output).toMatch(/TS2322|not assignable/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a module that compiles but does not follow the ABI', async () => {
    const bare = aggregateDir('bare_', 'export function hello(): i32 { return 1; }\n');
    const { code, output } = await thalo('build', bare, '-o', join(dir, 'out3'));
    expect(code).toBe(1);
    expect(output).toContain('does not export the function thalo_abi_version');
  });

  it('refuses a directory whose name is not an aggregate name, or that has no entry file', async () => {
    const dashed = join(dir, 'my-counter');
    cpSync('modules/counter', dashed, { recursive: true });
    const named = await thalo('build', dashed, '-o', join(dir, 'out4'));
    expect(named.code).toBe(1);
    expect(named.output).toContain('"my-counter" is not a valid aggregate name');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const missing = await thalo('build', empty);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('no index.ts or assembly/index.ts');
  });

  it('exits 2 on a usage error', async () => {
    const { code, output } = await thalo('build');
    expect(code).toBe(2);
    expect(output).toContain("missing required argument 'dir'");
  });
});
