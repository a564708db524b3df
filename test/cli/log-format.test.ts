/** The runtime's log formats: JSON lines for machines, one readable logfmt line for a person. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { logfmtLine } from '../../src/cli/log-format.js';
import { RUNTIME, tempRoot } from '../server/runtime-process.js';

describe('logfmtLine', () => {
  it("puts the fields after the message as key=JSON, leaving out pino's own", () => {
    const line = logfmtLine({
      level: 30,
      time: 'now',
      msg: 'loaded module from file',
      file: 'modules/counter.wasm',
      commands: ['Increment'],
      token: false,
    });
    expect(line).toBe('loaded module from file file="modules/counter.wasm" commands=["Increment"] token=false');
    expect(logfmtLine({ msg: 'cannot start', err: { message: 'boom', stack: 'Error: boom\n    at x' } })).toBe('cannot start err="boom"');
  });
});

describe('thalo-runtime --log-format pretty', () => {
  it('writes one readable line per entry, starting with the modules it loaded', async () => {
    const { root } = tempRoot();
    const child = spawn(process.execPath, [RUNTIME, '--log-format', 'pretty', '--port', '0', '--workers', '1'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    for await (const line of createInterface({ input: child.stdout! })) {
      lines.push(line);
      if (line.includes('listening on')) break;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: loaded module from file file="modules\/bank_account\.wasm" module="bank_account" version="1\.0\.0"/,
    );
    expect(lines.at(-1)).toMatch(/INFO: listening on http:\/\/127\.0\.0\.1:\d+ url=/);
  });
});
