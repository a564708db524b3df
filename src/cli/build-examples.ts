/**
 * Builds every example aggregate under `modules/<name>/` into `modules/<name>.wasm`. Run by
 * `npm install` (the prepare script), so a fresh clone has modules to serve.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildAggregate, entryOf } from './build.js';

const root = process.argv[2] ?? 'modules';
const dirs = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && entryOf(join(root, d.name)))
  .map((d) => join(root, d.name));

let failed = false;
for (const dir of dirs) {
  try {
    const { file, bytes } = await buildAggregate(dir, root);
    console.log(`built ${relative(process.cwd(), file)} (${bytes} bytes)`);
  } catch (error) {
    failed = true;
    process.stderr.write(`${(error as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
