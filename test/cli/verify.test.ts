/**
 * `thalo-runtime --verify` as a process (issue 13, item 4): on a damaged store it lists exactly the
 * damaged positions and exits 1; on a sound one it says so and exits 0; on damaged meta pages it
 * says what is wrong instead of crashing.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RUNTIME } from '../server/runtime-process.js';
import { flipAmount, garbageMetaPages, garbagePage, writeMarkedLog } from '../store/damage-helpers.js';
import { tempDir } from '../store/helpers.js';

const COUNT = 1000;

function verify(data: string, ...args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUNTIME, '--verify', '--data', data, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
}

/** The positions a `--json` report lists as damaged. */
function positionsOf(report: { damaged: { from: number; to: number }[] }): number[] {
  return report.damaged.flatMap(({ from, to }) => Array.from({ length: to - from + 1 }, (_, i) => from + i));
}

describe('thalo-runtime --verify', () => {
  it('exits 0 on a sound store and says so', async () => {
    const data = tempDir();
    await writeMarkedLog(data, COUNT);
    const result = await verify(data);
    expect(result.stdout).toBe(`checked positions 1 to ${COUNT} of ${data}: no damage found\n`);
    expect(result.code).toBe(0);
  });

  it('lists exactly the damaged positions, a changed byte and a page of garbage, and exits 1', async () => {
    const data = tempDir();
    await writeMarkedLog(data, COUNT);
    flipAmount(data, 100);
    const lost = garbagePage(data, 700, COUNT);
    expect(lost).not.toContain(100);

    const json = await verify(data, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      damaged: { from: number; to: number; problem: string }[];
      problems: string[];
      lastPosition: number;
    };
    expect(positionsOf(report)).toEqual([100, ...lost]);
    expect(report.damaged[0]).toMatchObject({ from: 100, to: 100, problem: expect.stringMatching(/^checksum mismatch/) });
    expect(report.lastPosition).toBe(COUNT);
    // Later events of the lost events' streams chain through them (no damage of their own), and
    // the heads point past the lost page: nothing else to report.
    expect(report.problems).toEqual([]);

    const text = await verify(data);
    expect(text.code).toBe(1);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^position 100: checksum mismatch/);
    expect(lines[1]).toMatch(new RegExp(`^positions ${lost[0]}-${lost[lost.length - 1]}: `));
    expect(lines.at(-1)).toBe(`checked positions 1 to ${COUNT} of ${data}: ${lost.length + 1} damaged positions, 0 other problems`);
  });

  it('reports damaged meta pages instead of crashing in LMDB', async () => {
    const data = tempDir();
    await writeMarkedLog(data, 10);
    garbageMetaPages(data);
    const result = await verify(data);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^LMDB meta pages: meta page 0: magic is 0xabababab/m);
  });

  it('exits 1 naming the directory when there is no store in it', async () => {
    const data = tempDir();
    const result = await verify(data);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`cannot verify: there is no event store in ${data} (no data.mdb)\n`);
  });
});
