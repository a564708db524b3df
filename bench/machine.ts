/** What every benchmark prints first: the machine its figures come from. */
import { availableParallelism, cpus, totalmem } from 'node:os';

export function describeMachine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `machine: ${availableParallelism()} cores, ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Percentile of an ascending sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** A progress line rewritten in place on a terminal, printed once at the end otherwise. */
export function progress(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) return;
  process.stdout.write(`\r  ${label}: ${done}/${total} (${Math.floor((done / total) * 100)}%)   `);
  if (done >= total) process.stdout.write('\r\x1b[K');
}
