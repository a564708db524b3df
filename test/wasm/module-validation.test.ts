import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wabt from 'wabt';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModule, loadModule } from '../../src/wasm/index.js';

const dir = mkdtempSync(join(tmpdir(), 'thalo-wasm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A minimal module: every ABI v1 export, with `parts` replacing or adding pieces. */
function wat(parts: { imports?: string; version?: number; omit?: string; extra?: string } = {}): string {
  const fns: Record<string, string> = {
    thalo_abi_version: `(func (export "thalo_abi_version") (result i32) i32.const ${parts.version ?? 1})`,
    thalo_alloc: '(func (export "thalo_alloc") (param i32) (result i32) i32.const 1024)',
    thalo_free: '(func (export "thalo_free") (param i32 i32))',
    // {"name":"t","version":"1","commands":[],"events":[]} encoded at offset 16
    thalo_describe: '(func (export "thalo_describe") (result i64) i64.const 0x1000000024)',
    thalo_new: '(func (export "thalo_new") (param i32 i32) (result i32) i32.const 1)',
    thalo_drop: '(func (export "thalo_drop") (param i32))',
    thalo_apply: '(func (export "thalo_apply") (param i32 i32 i32) (result i32) i32.const 0)',
    thalo_handle: '(func (export "thalo_handle") (param i32 i32 i32) (result i64) i64.const 0)',
  };
  const body = Object.entries(fns)
    .filter(([name]) => name !== parts.omit)
    .map(([, f]) => f)
    .join('\n');
  const describe = '\\84\\a4name\\a1t\\a7version\\a11\\a8commands\\90\\a6events\\90';
  return `(module ${parts.imports ?? ''} (memory (export "memory") 1) (data (i32.const 16) "${describe}") ${body} ${parts.extra ?? ''})`;
}

async function compile(source: string): Promise<Uint8Array> {
  const w = await wabt();
  const parsed = w.parseWat('test.wat', source);
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return buffer;
}

async function refusal(bytes: Uint8Array, name = 'bad.wasm'): Promise<{ code: string; message: string }> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  try {
    await loadModule(file);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('the module was accepted');
}

describe('module validation', () => {
  it('accepts a minimal module that follows the ABI', async () => {
    const module = await compileModule(await compile(wat()), 'minimal.wasm');
    expect(module.name).toBe('minimal');
    expect(module.description).toEqual({ name: 't', version: '1', commands: [], events: [] });
    expect(module.supportsSnapshots).toBe(false);
  });

  it('refuses a file that is not wasm, naming the file', async () => {
    const error = await refusal(new TextEncoder().encode('not wasm at all'), 'text.wasm');
    expect(error.code).toBe('MODULE_INVALID');
    expect(error.message).toContain('text.wasm');
    expect(error.message).toContain('not a valid WebAssembly module');
  });

  it('refuses a module missing a required export', async () => {
    const error = await refusal(await compile(wat({ omit: 'thalo_handle' })));
    expect(error.code).toBe('MODULE_INVALID');
    expect(error.message).toContain('does not export the function thalo_handle');
  });

  it('refuses a module of another ABI version', async () => {
    const error = await refusal(await compile(wat({ version: 2 })));
    expect(error.code).toBe('MODULE_INVALID');
    expect(error.message).toContain('ABI version 2');
  });

  it('refuses a forbidden import', async () => {
    const error = await refusal(
      await compile(wat({ imports: '(import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))' })),
    );
    expect(error.code).toBe('MODULE_INVALID');
    expect(error.message).toContain('wasi_snapshot_preview1.clock_time_get');
  });

  it('refuses a snapshot export without its pair', async () => {
    const half = await refusal(await compile(wat({ extra: '(func (export "thalo_snapshot") (param i32) (result i64) i64.const 0)' })));
    expect(half.message).toContain('without its pair');
  });

  it('refuses an export or import with the wrong signature, naming both signatures', async () => {
    const arity = await refusal(
      await compile(wat({ omit: 'thalo_new', extra: '(func (export "thalo_new") (param i32) (result i32) i32.const 1)' })),
    );
    expect(arity.message).toContain('thalo_new has the signature (i32) -> i32; ABI v1 says (i32, i32) -> i32');
    const result = await refusal(
      await compile(wat({ omit: 'thalo_handle', extra: '(func (export "thalo_handle") (param i32 i32 i32) (result i32) i32.const 0)' })),
    );
    expect(result.message).toContain('thalo_handle has the signature (i32, i32, i32) -> i32; ABI v1 says (i32, i32, i32) -> i64');
    const log = await refusal(await compile(wat({ imports: '(import "thalo" "log" (func (param i32 i32)))' })));
    expect(log.message).toContain('the import thalo.log has the signature (i32, i32) -> (); ABI v1 says (i32, i32, i32) -> ()');
  });

  it('refuses a module that imports a memory instead of exporting one', async () => {
    const error = await refusal(
      await compile(wat({ imports: '(import "env" "memory" (memory 1))' }).replace('(memory (export "memory") 1)', '')),
    );
    expect(error.message).toContain('imports memory "env.memory"');
  });

  it('refuses a file whose stem is not an aggregate name', async () => {
    const error = await refusal(await compile(wat()), 'my-module.wasm');
    expect(error.code).toBe('MODULE_INVALID');
    expect(error.message).toContain('"my-module" is not a valid aggregate name');
  });

  it('refuses a module whose description is malformed', async () => {
    const bytes = await compile(wat().replace('i64.const 0x1000000024', 'i64.const 0x1000000003'));
    const error = await refusal(bytes);
    expect(error.message).toContain('thalo_describe');
  });
});
