/**
 * The console's build (`npm run build:console`): console/ into dist/console/, which the runtime
 * serves (src/server/console.ts). After the bundle is written, every file gets a gzipped copy
 * beside it (the runtime serves those to browsers that take gzip), the sizes are printed, and the
 * build fails when the gzipped total is over the budget the issue set (150 KB).
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

/** The most the console may weigh, gzipped, all files together. */
export const BUDGET_BYTES = 150 * 1024;

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(here, '../dist/console');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Gzip every file of the build, print the sizes, and fail past the budget. */
function gzipBudget(): Plugin {
  return {
    name: 'thalo-gzip-budget',
    apply: 'build',
    closeBundle() {
      let total = 0;
      for (const file of filesUnder(outDir).filter((f) => !f.endsWith('.gz'))) {
        const gzipped = gzipSync(readFileSync(file), { level: 9 });
        writeFileSync(`${file}.gz`, gzipped);
        total += gzipped.length;
        console.log(`  ${relative(outDir, file).padEnd(36)} ${(gzipped.length / 1024).toFixed(1).padStart(7)} KB gzipped`);
      }
      console.log(`console: ${(total / 1024).toFixed(1)} KB gzipped in all (budget ${BUDGET_BYTES / 1024} KB)`);
      if (total > BUDGET_BYTES) throw new Error(`the console is ${total} bytes gzipped, over its budget of ${BUDGET_BYTES}`);
    },
  };
}

export default defineConfig({
  root: here,
  // Served under /console/ (and its page also at /).
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    // Modern browsers only; no polyfills and no module preload shim.
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    // No source maps in what is served: they would double the size.
    sourcemap: false,
  },
  plugins: [gzipBudget()],
});
