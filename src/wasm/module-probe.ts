/**
 * Running a new module's code for the first time, on a thread of its own, with a deadline.
 *
 * Validating a module means running its code: instantiating it runs its start function, then
 * the loader calls `thalo_abi_version` and `thalo_describe`. Any of them may loop forever, and a
 * loop on the main thread froze the whole runtime (no `/healthz`, no commands, SIGTERM ignored,
 * and at start no listening socket and no log line). So those calls run in a short-lived worker
 * thread, which is terminated when they have not returned within the deadline; V8 interrupts
 * wasm loops on termination. The main thread only compiles (compiling runs no guest code), and
 * unpacks the description bytes the worker copied out.
 *
 * The worker's code is a string evaluated as a script: it needs nothing but `worker_threads`, and
 * as a string it runs the same from the sources (under vitest) and from the build. Node evaluates
 * it as an ES module where the process was started with `--input-type=module` (a script given
 * with `-e`), and `require` is missing there, so it takes `worker_threads` from
 * `process.getBuiltinModule` then (Node 20.16 and later). It writes the
 * step it is in to a shared Int32Array before each call, so the main thread can name the function
 * that did not return without waiting on a message from a thread that is busy looping. The
 * deadline starts when the worker's script begins, not when the thread was asked for: on a busy
 * machine a thread may take a while to start, and that is not the module's doing.
 */
import { Worker } from 'node:worker_threads';

/** The calls of a probe, in order; `ProbeFailure.step` names the one that failed. */
export const PROBE_STEPS = ['the start function', 'thalo_abi_version', 'thalo_describe'] as const;
export type ProbeStep = (typeof PROBE_STEPS)[number];

export type ProbeOutcome =
  | {
      ok: true;
      /** What `thalo_abi_version` returned. */
      version: unknown;
      /** The bytes `thalo_describe` pointed at; absent when the version was not the one asked for. */
      description?: Uint8Array;
    }
  | { ok: false; step: ProbeStep; message: string; timedOut: boolean };

interface ProbeData {
  compiled: WebAssembly.Module;
  step: SharedArrayBuffer;
  abiVersion: number;
}

type ProbeMessage = { type: 'begin' } | { type: 'done'; version: unknown; description?: Uint8Array } | { type: 'failed'; message: string };

// Plain JavaScript: the worker's whole program. `env.abort` reads AssemblyScript's strings (UTF-16,
// byte length 4 bytes before them) so that an abort says what the guest said; `thalo.log` lines
// are dropped, as at any load.
const PROBE_SOURCE = `
const { parentPort, workerData } =
  typeof require === 'function' ? require('node:worker_threads') : process.getBuiltinModule('node:worker_threads');
const { compiled, abiVersion } = workerData;
const step = new Int32Array(workerData.step);
let instance;
function guestString(ptr) {
  const bytes = new Uint8Array(instance.exports.memory.buffer);
  if (ptr < 4 || ptr > bytes.length) return '';
  const length = new DataView(bytes.buffer).getUint32(ptr - 4, true);
  return Buffer.from(bytes.buffer, ptr, Math.min(length, bytes.length - ptr)).toString('utf16le');
}
const imports = {
  thalo: { log() {} },
  env: {
    abort(msg, file, line, column) {
      throw new Error('abort: ' + guestString(msg) + ' at ' + guestString(file) + ':' + line + ':' + column);
    },
  },
};
function probe() {
  Atomics.store(step, 0, 0);
  instance = new WebAssembly.Instance(compiled, imports);
  Atomics.store(step, 0, 1);
  const version = instance.exports.thalo_abi_version();
  if (version !== abiVersion) return { type: 'done', version };
  Atomics.store(step, 0, 2);
  const packed = instance.exports.thalo_describe();
  if (typeof packed !== 'bigint') throw new Error('it returned ' + typeof packed + ', not an i64');
  const ptr = Number(BigInt.asUintN(64, packed) >> 32n);
  const length = Number(BigInt.asUintN(32, packed));
  const memory = instance.exports.memory.buffer;
  if (ptr + length > memory.byteLength) throw new Error('its result lies outside memory');
  return { type: 'done', version, description: new Uint8Array(memory, ptr, length).slice() };
}
parentPort.postMessage({ type: 'begin' });
let result;
try {
  result = probe();
} catch (error) {
  result = { type: 'failed', message: error instanceof Error ? error.message : String(error) };
}
parentPort.postMessage(result);
`;

/**
 * Instantiate `compiled` and call `thalo_abi_version` (then, if it returned `abiVersion`,
 * `thalo_describe`) on a worker thread; give up after `timeoutMs` of guest code.
 *
 * @example
 *   const outcome = await probeModule(compiled, 2_000, 1);
 *   if (!outcome.ok && outcome.timedOut) console.log(`${outcome.step} did not return`);
 */
export function probeModule(compiled: WebAssembly.Module, timeoutMs: number, abiVersion: number): Promise<ProbeOutcome> {
  const step = new SharedArrayBuffer(4);
  const data: ProbeData = { compiled, step, abiVersion };
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: data });
  const stepNow = (): ProbeStep => PROBE_STEPS[Atomics.load(new Int32Array(step), 0)] ?? PROBE_STEPS[0];
  return new Promise<ProbeOutcome>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Resolve only once the thread is gone, so a runaway guest never outlives its refusal.
      void worker.terminate().finally(() => resolve(outcome));
    };
    worker.on('message', (message: ProbeMessage) => {
      if (message.type === 'begin') {
        timer = setTimeout(
          () => settle({ ok: false, step: stepNow(), message: `did not return within ${timeoutMs} ms`, timedOut: true }),
          timeoutMs,
        );
      } else if (message.type === 'done') {
        settle(
          message.description === undefined
            ? { ok: true, version: message.version }
            : { ok: true, version: message.version, description: message.description },
        );
      } else {
        settle({ ok: false, step: stepNow(), message: message.message, timedOut: false });
      }
    });
    worker.on('error', (error) => settle({ ok: false, step: stepNow(), message: error.message, timedOut: false }));
    worker.on('exit', (code) =>
      settle({ ok: false, step: stepNow(), message: `its thread exited (code ${code}) before it returned`, timedOut: false }),
    );
  });
}
