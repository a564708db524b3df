import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModule } from '../../src/wasm/index.js';

const run = promisify(execFile);
const THALO = resolve('dist/src/cli/thalo.js');
const dir = mkdtempSync(join(tmpdir(), 'thalo-build-'));
mkdirSync('.tmp', { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function thalo(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [THALO, ...args], { cwd: resolve('.') });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

describe('thalo build', () => {
  it('compiles an aggregate directory into a valid module', async () => {
    const out = join(dir, 'out');
    const { code, output } = await thalo('build', 'modules/counter', '-o', out);
    expect(code).toBe(0);
    expect(output).toContain('counter.wasm');
    const module = await loadModule(join(out, 'counter.wasm'));
    expect(module.description.commands).toEqual(['Increment']);
  });

  it("shows the compiler's message and exits 1 on a compile error", async () => {
    // Inside the project, two levels down like modules/<name>/, so its SDK imports resolve.
    const broken = mkdtempSync(join(resolve('.tmp'), 'broken-'));
    cpSync('modules/counter/index.ts', join(broken, 'index.ts'));
    writeFileSync(join(broken, 'index.ts'), 'const x: i32 = "not a number";\n', { flag: 'a' });
    const { code, output } = await thalo('build', broken, '-o', join(dir, 'out2'));
    rmSync(broken, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(output).toContain('compilation failed');
    expect(output).toMatch(/TS2322|not assignable/);
  });

  it('exits 2 on a usage error', async () => {
    const { code, output } = await thalo('build');
    expect(code).toBe(2);
    expect(output).toContain("missing required argument 'dir'");
  });
});
