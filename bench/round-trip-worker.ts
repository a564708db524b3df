/**
 * The worker of bench/engine.ts's round-trip figure: it blocks its thread for `waitUs` µs, as an
 * aggregate worker is blocked while its commit syncs, and answers with how long it was blocked.
 * The round trip minus the block is what the two thread hops of one sequential command cost on
 * this machine, each thread having slept as long as it does around a commit (a vCPU that halted
 * may take longer to wake than a busy one, so the figure is taken both ways).
 */
const cell = new Int32Array(new SharedArrayBuffer(4));

export default function block(waitUs: number): number {
  const started = performance.now();
  if (waitUs > 0) Atomics.wait(cell, 0, 0, waitUs / 1000);
  return (performance.now() - started) * 1000;
}
