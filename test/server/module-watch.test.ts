/**
 * The watched modules directory, against the runtime as a process: new files serve, a file
 * replaced while commands flow switches versions without failing a command, a bad file is refused
 * while the previous version keeps serving, and a removed file stops serving.
 */
import { copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { execute, request, startRuntime } from './runtime-process.js';
import type { LogLine, RuntimeProcess } from './runtime-process.js';

let runtime: RuntimeProcess;

beforeAll(async () => {
  runtime = await startRuntime();
});

/** Write a file the way deploy tools should: a temp file, then an atomic rename. */
function replaceAtomically(file: string, bytes: Uint8Array): void {
  writeFileSync(`${file}.tmp-upload`, bytes);
  renameSync(`${file}.tmp-upload`, file);
}

const logAfter = (count: number, match: (line: LogLine) => boolean) =>
  runtime.waitForLog((line) => runtime.logs.indexOf(line) >= count && match(line));

describe('the modules directory', () => {
  it('serves a new module dropped into it', async () => {
    const mark = runtime.logs.length;
    copyFileSync(join(runtime.modules, 'counter.wasm'), join(runtime.modules, 'clicks.wasm'));
    await logAfter(mark, (l) => l.msg === 'loaded module from file' && l.file === 'modules/clicks.wasm');
    const { status, body } = await execute(runtime.url, 'clicks', 'c1', 'Increment', { amount: 4 });
    expect(status).toBe(200);
    expect(body.events[0]).toMatchObject({ stream: 'clicks-c1', type: 'Incremented' });
  });

  it('switches to a replaced module while commands flow, failing none that the old one took', async () => {
    const CLIENTS = 4;
    const outcomes: { status: number; code?: string }[][] = Array.from({ length: CLIENTS }, () => []);
    let switched = false;
    // Each client sends Increment in a loop until the new version has answered it a few times.
    const clients = outcomes.map(async (seen, k) => {
      let after = 0;
      while (after < 3) {
        const { status, body } = await execute(runtime.url, 'counter', `flow-${k}`, 'Increment', { amount: 1 });
        seen.push({ status, code: body.code });
        if (switched && status !== 200) after++;
      }
    });
    // Let commands flow on the old version, then put bank_account's bytes in counter.wasm.
    while (outcomes.some((seen) => seen.length < 20)) await new Promise((r) => setImmediate(r));
    const mark = runtime.logs.length;
    replaceAtomically(join(runtime.modules, 'counter.wasm'), readFileSync(join(runtime.modules, 'bank_account.wasm')));
    await logAfter(mark, (l) => l.msg === 'loaded module from file' && l.file === 'modules/counter.wasm');
    switched = true;
    await Promise.all(clients);

    for (const [k, seen] of outcomes.entries()) {
      // Every command was either taken by the old version (200) or refused by the new one,
      // which has no Increment (404), and never the other way round.
      const firstRefusal = seen.findIndex((o) => o.status !== 200);
      expect(seen.slice(0, firstRefusal).every((o) => o.status === 200)).toBe(true);
      expect(seen.slice(firstRefusal).every((o) => o.status === 404 && o.code === 'UNKNOWN_COMMAND')).toBe(true);
      // And every acknowledged command is in the stream.
      const stream = await request(`${runtime.url}/v1/aggregates/counter/flow-${k}/events`);
      expect(stream.body.events).toHaveLength(firstRefusal);
    }
    const modules = await request(`${runtime.url}/v1/modules`);
    const counter = modules.body.modules.find((m: { name: string }) => m.name === 'counter');
    expect(counter.description).toMatchObject({ name: 'bank_account', commands: ['OpenAccount', 'Deposit', 'Withdraw'] });
    const opened = await execute(runtime.url, 'counter', 'fresh', 'OpenAccount', { initial_balance: 3 });
    expect(opened.body.events[0].type).toBe('AccountOpened');
  });

  it('refuses a bad file with a log line while the previous version keeps serving', async () => {
    const mark = runtime.logs.length;
    // Not atomic on purpose: whatever the watcher catches of it, none of it is a valid module.
    writeFileSync(join(runtime.modules, 'counter.wasm'), Buffer.alloc(2048, 7));
    const refused = await logAfter(mark, (l) => l.msg.startsWith('refused module') && l.file === 'modules/counter.wasm');
    expect(refused).toMatchObject({ level: 50, code: 'MODULE_INVALID', msg: 'refused module: the previous version keeps serving' });
    const still = await execute(runtime.url, 'counter', 'after-bad', 'OpenAccount', { initial_balance: 1 });
    expect(still.status).toBe(200);
    const modules = await request(`${runtime.url}/v1/modules`);
    expect(modules.body.refused).toEqual([{ file: 'modules/counter.wasm', error: expect.objectContaining({ code: 'MODULE_INVALID' }) }]);
  });

  it('stops serving a removed module, and serves it again when it comes back', async () => {
    const bytes = readFileSync(join(runtime.modules, 'todos.wasm'));
    let mark = runtime.logs.length;
    rmSync(join(runtime.modules, 'todos.wasm'));
    await logAfter(mark, (l) => l.msg.startsWith('unloaded module') && l.file === 'modules/todos.wasm');
    const gone = await execute(runtime.url, 'todos', 'list', 'AddTodo', { id: 't1', title: 'x' });
    expect([gone.status, gone.body.code]).toEqual([404, 'AGGREGATE_NOT_FOUND']);
    mark = runtime.logs.length;
    replaceAtomically(join(runtime.modules, 'todos.wasm'), bytes);
    await logAfter(mark, (l) => l.msg === 'loaded module from file' && l.file === 'modules/todos.wasm');
    expect((await request(`${runtime.url}/v1/modules`)).body.modules.map((m: { name: string }) => m.name)).toContain('todos');
  });
});
