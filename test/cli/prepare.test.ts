// scripts/prepare.js, npm's prepare step: it builds after `npm install` in a clone, and does
// nothing under `npx thalo` (npm_command=exec), where npm would otherwise rebuild the whole project
// (about 30 s) with its output hidden, before every first run of a bin.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = mkdtempSync(join(tmpdir(), 'thalo-prepare-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** Run prepare.js with a stand-in `npm` on PATH that records its arguments and exits `status`. */
function prepare(npmCommand: string, status = 0): { code: number | null; calls: string[]; stderr: string } {
  const log = join(bin, 'calls.txt');
  writeFileSync(log, '');
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "$@" >> ${log}\nexit ${status}\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  const result = spawnSync(process.execPath, [resolve('scripts/prepare.js')], {
    env: { PATH: `${bin}:/usr/bin:/bin`, npm_command: npmCommand },
    encoding: 'utf8',
  });
  const calls = readFileSync(log, 'utf8').trim();
  return { code: result.status, calls: calls === '' ? [] : calls.split('\n'), stderr: result.stderr };
}

describe('scripts/prepare.js', () => {
  it('builds the TypeScript, the example modules and the console after npm install', () => {
    expect(prepare('install')).toEqual({ code: 0, calls: ['run build', 'run build:modules', 'run build:console'], stderr: '' });
  });

  it('does nothing under npx (npm exec)', () => {
    expect(prepare('exec')).toEqual({ code: 0, calls: [], stderr: '' });
  });

  it('fails with the step that failed, never silently', () => {
    const failed = prepare('install', 3);
    expect(failed.code).toBe(3);
    expect(failed.calls).toEqual(['run build']);
    expect(failed.stderr).toContain('prepare: npm run build failed (exit 3)');
  });
});
