// A user's project outside the repository, as README's "Test an aggregate" tells it: install the
// package (`npm pack` of this checkout, installed from npm's cache, which `npm ci` of the
// repository filled, asking the registry only for what the cache lacks), keep an aggregate in src/aggregates/inventory/ importing the SDK from the
// package, build it with `npx thalo build`, and test it with thalo-node/testing under node:test.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const REPO = resolve('.');
const root = mkdtempSync(join(tmpdir(), 'thalo-scratch-'));
const project = join(root, 'shop');
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/**
 * The project's package.json and a lockfile pinning the package's dependencies to the versions of
 * this repository's lockfile, so `npm ci --prefer-offline` finds the tarballs in npm's cache (the
 * lockfile holds no registry addresses, so a package the cache has no metadata for is looked up).
 */
function writeProject(tarball: string): void {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const spec = `file:../${tarball}`;
  const integrity = `sha512-${createHash('sha512')
    .update(readFileSync(join(root, tarball)))
    .digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'shop', version: '1.0.0', dependencies: { 'thalo-node': spec } },
    'node_modules/thalo-node': { version: pkg.version, resolved: spec, integrity, dependencies: pkg.dependencies, bin: pkg.bin },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  mkdirSync(project);
  const manifest = { name: 'shop', version: '1.0.0', private: true, type: 'module', dependencies: { 'thalo-node': spec } };
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({ name: 'shop', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
}

const PASSING = `
import { test } from 'node:test';
import { buildAggregate, loadAggregate } from 'thalo-node/testing';

test('built from its source directory: OUT_OF_STOCK with its data', async () => {
  const inventory = await buildAggregate('src/aggregates/inventory');
  inventory
    .given(['StockReceived', { quantity: 5, unit_cost: 2, lot: null }])
    .when('ReserveStock', { order_id: 'o1', lines: [{ sku: 'a', quantity: 9 }] })
    .thenRejected('OUT_OF_STOCK', { available: 5, requested: 9 });
});

test('loaded from thalo build: events, then a snapshot round trip', async () => {
  const inventory = await loadAggregate('modules/inventory.wasm');
  inventory
    .given()
    .when('ReceiveStock', { quantity: 3, unit_cost: 1.5, lot: 'L1' })
    .thenEvents(['StockReceived', { quantity: 3, unit_cost: 1.5, lot: 'L1' }])
    .snapshotRoundTrip(['ReserveStock', { order_id: 'o1', lines: [{ sku: 'a', quantity: 3 }] }]);
});
`;

// A wrong expectation: node:test must report it as a failure, with the kit's message.
const FAILING = `
import { test } from 'node:test';
import { loadAggregate } from 'thalo-node/testing';

test('a wrong expectation fails', async () => {
  const inventory = await loadAggregate('modules/inventory.wasm');
  inventory.given().when('ReserveStock', { order_id: 'o1', lines: [{ sku: 'a', quantity: 1 }] }).thenRejected('OUT_OF_STOCK', { available: 7, requested: 1 });
});
`;

describe('a scratch project outside the repository', () => {
  it(
    'installs the package, builds an aggregate from src/aggregates/ and tests it with the kit under node:test',
    { timeout: 300_000 },
    async () => {
      const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', root], REPO);
      expect(pack.code, pack.output).toBe(0);
      const tarball = readdirSync(root).find((name) => name.endsWith('.tgz'))!;
      writeProject(tarball);
      const install = await run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], project);
      expect(install.code, install.output).toBe(0);

      cpSync(join(REPO, 'modules', 'inventory'), join(project, 'src', 'aggregates', 'inventory'), { recursive: true });
      const build = await run('npx', ['thalo', 'build', 'src/aggregates/inventory', '-o', 'modules'], project);
      expect(build.code, build.output).toBe(0);
      expect(build.output).toContain(`built ${join(project, 'modules', 'inventory.wasm')}`);

      mkdirSync(join(project, 'test'));
      writeFileSync(join(project, 'test', 'inventory.test.js'), PASSING);
      writeFileSync(join(project, 'test', 'wrong.test.js'), FAILING);
      const passing = await run(process.execPath, ['--test', 'test/inventory.test.js'], project);
      expect(passing.code, passing.output).toBe(0);
      expect(passing.output).toMatch(/# pass 2\n# fail 0/);
      const failing = await run(process.execPath, ['--test', 'test/wrong.test.js'], project);
      expect(failing.code).toBe(1);
      expect(failing.output).toContain("ReserveStock's rejection OUT_OF_STOCK carries other data");
    },
  );
});
