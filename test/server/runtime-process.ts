/**
 * `thalo-runtime` as a real process for end-to-end tests: a temp directory with `modules/` (a
 * copy of the example modules) and `data/`, the runtime started in it on a free port, its pino
 * lines parsed as they come, and everything killed and removed after the test file.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export const RUNTIME = resolve('dist/src/cli/runtime.js');
export const THALO = resolve('dist/src/cli/thalo.js');
export const EXAMPLE_MODULES = resolve('modules');

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface RuntimeProcess {
  url: string;
  child: ChildProcess;
  /** The directory the runtime runs in; `modules/` and `data/` are inside. */
  root: string;
  modules: string;
  data: string;
  logs: LogLine[];
  /** Resolves with the first log line (past or future) that `match` accepts. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Send `signal` and resolve with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** The test's environment without THALO_* variables, which would configure the processes. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('THALO_')));
}

/** A temp directory with `modules/` holding copies of the example modules. */
export function tempRoot(): { root: string; modules: string; data: string } {
  const root = mkdtempSync(join(tmpdir(), 'thalo-runtime-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const modules = join(root, 'modules');
  mkdirSync(modules);
  for (const file of readdirSync(EXAMPLE_MODULES).filter((f) => f.endsWith('.wasm')))
    copyFileSync(join(EXAMPLE_MODULES, file), join(modules, file));
  return { root, modules, data: join(root, 'data') };
}

export interface StartOptions {
  /** Reuse a root (to restart on the same data). Default: a fresh `tempRoot()`. */
  root?: { root: string; modules: string; data: string };
  args?: string[];
  env?: Record<string, string>;
  /** Options for node itself, before the script (`--max-old-space-size=512`). */
  nodeArgs?: string[];
}

/** Start the runtime on a free port and wait until it listens. */
export async function startRuntime(options: StartOptions = {}): Promise<RuntimeProcess> {
  const spawned = spawnRuntime(options);
  // A start takes about a second here; the minute is for a machine loaded by other work (a start
  // after a SIGKILL, beside a browser or a cargo build, took over 10 s under a load of 12 on 2 cores).
  const listening = await spawned.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('listening on'), 60_000);
  return { ...spawned, url: listening.url as string };
}

/** Start the runtime without waiting for it to listen (to see it fail). */
export function spawnRuntime(options: StartOptions = {}): Omit<RuntimeProcess, 'url'> {
  const dirs = options.root ?? tempRoot();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      RUNTIME,
      '--port',
      '0',
      '--workers',
      '2',
      '--modules',
      'modules',
      '--data',
      'data',
      ...(options.args ?? []),
    ],
    {
      cwd: dirs.root,
      env: { ...cleanEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const text of lines) {
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 0, msg: text };
      }
      logs.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      const waiter = { match, resolve: resolveLine };
      waiters.add(waiter);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      void exited.then(() => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`the runtime exited; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${stderr}`));
      });
    });
  };

  return {
    child,
    ...dirs,
    logs,
    waitForLog,
    exited,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

/** Run the `thalo` CLI as a process. */
export function thalo(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [THALO, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** `fetch` plus the parsed JSON body. */
export async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics)
  }
  return { status: response.status, body, headers: response.headers };
}

/** POST a command with a JSON payload. */
export function execute(
  url: string,
  aggregate: string,
  id: string,
  command: string,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  return request(`${url}/v1/aggregates/${encodeURIComponent(aggregate)}/${encodeURIComponent(id)}/commands/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
}
