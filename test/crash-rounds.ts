/**
 * Crash rounds for tests: start a child process that prints `ready` once it is serving, let it
 * work a random while, SIGKILL it; repeat. Then run it once more in a mode that settles and exits.
 */
import type { ChildProcess } from 'node:child_process';

export async function killRounds(start: () => ChildProcess, rounds: number, minMs: number, maxMs: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const child = start();
    await new Promise<void>((ready, fail) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready());
      child.on('exit', (code) => fail(new Error(`child exited early with ${code}`)));
    });
    await new Promise((r) => setTimeout(r, minMs + Math.random() * (maxMs - minMs)));
    await sigkill(child);
  }
}

/** SIGKILL `child` and resolve once it is gone (at once if it already is). */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** The exit code of a child run to completion. */
export function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', resolve));
}
