/**
 * The console: the web page of `thalo-runtime` (console/ in the repository, built into
 * dist/console/ by `npm run build:console`), served at `/`, `/console` and `/console/…`.
 *
 * The page's files are public: a browser cannot send a bearer token when it opens a URL. The page
 * asks for the token itself and sends it with each of its API requests, which are checked as any
 * other. The files come from this process's disk, gzipped at build time, and the page loads
 * nothing from elsewhere: its Content-Security-Policy allows this origin only, so a stray outside
 * request fails in the browser instead of leaking what the page shows.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from './api-errors.js';

/** Self only; uPlot and Preact set inline styles through the DOM, which `style-src` must allow. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Where the built console is. Built, this file is dist/src/server/console.js and the console
 * dist/console/. Run from the sources (vitest), it is src/server/console.ts and the console is
 * still the built one under dist/.
 */
export function consoleDirectory(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/console/' : '../../console/', here));
}

/** Serve the console from `root` (default: the built one), or answer `CONSOLE_NOT_BUILT` where it should be. */
export function registerConsole(app: FastifyInstance, root: string = consoleDirectory()): void {
  void app.register(async (context) => {
    // Every route of this context is public (see above); the static plugin adds its own routes,
    // so they are marked as they are added.
    context.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), public: true };
    });
    context.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      return payload;
    });
    if (!existsSync(`${root}/index.html`)) {
      const notBuilt = async (): Promise<never> => {
        throw new ApiError(
          'CONSOLE_NOT_BUILT',
          `the console's files are not in ${root}: run "npm run build:console" (npm install and npm test run it)`,
        );
      };
      for (const url of ['/', '/console', '/console/*']) context.get(url, notBuilt);
      return;
    }
    void context.register(fastifyStatic, {
      root,
      prefix: '/console/',
      // build:console writes a .gz beside each file; a browser that takes gzip gets it.
      preCompressed: true,
      // index.html names its assets by content hash, so they never change under one name.
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      },
    });
    const index = (_request: unknown, reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
    context.get('/', index);
    context.get('/console', index);
  });
}
