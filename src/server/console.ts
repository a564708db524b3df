/**
 * The console: the web page of `thalo-runtime` (console/ in the repository, built into
 * dist/console/ by `npm run build:console`), served at `/`, `/console` and `/console/…`.
 *
 * The page's files are public: a browser cannot send a bearer token when it opens a URL. The page
 * asks for the token itself and sends it with each of its API requests, which are checked as any
 * other. The page loads nothing from elsewhere: its Content-Security-Policy allows this origin
 * only, so a stray outside request fails in the browser instead of leaking what the page shows.
 *
 * The built console is a handful of files known when the runtime starts (an index, one script,
 * one stylesheet, each with the gzipped copy the build writes), so they are read once, at start,
 * and served from memory; only those names are served, so no path reaches the disk. A plugin
 * that serves a folder (@fastify/static) was tried first: importing it cost 370–410 ms of every
 * runtime start on the shared 2-core machine, for three files. A console rebuilt under a running
 * runtime is served after its restart.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-errors.js';

/** Self only; uPlot and Preact set inline styles through the DOM, which `style-src` must allow. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/** A file of the built console, in memory. */
interface ConsoleFile {
  contentType: string;
  body: Buffer;
  /** The build's `.gz` of it, sent to a browser that takes gzip. */
  gzipped: Buffer | undefined;
}

/**
 * Where the built console is. Built, this file is dist/src/server/console.js and the console
 * dist/console/. Run from the sources (vitest), it is src/server/console.ts and the console is
 * still the built one under dist/.
 */
export function consoleDirectory(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/console/' : '../../console/', here));
}

/** The files under `root` by their path from it (`assets/index-x.js`), or undefined when it holds no index.html. */
function readConsole(root: string): Map<string, ConsoleFile> | undefined {
  if (!existsSync(join(root, 'index.html'))) return undefined;
  const files = new Map<string, ConsoleFile>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith('.gz')) {
        files.set(relative(root, path).split(sep).join('/'), {
          contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
          body: readFileSync(path),
          gzipped: existsSync(`${path}.gz`) ? readFileSync(`${path}.gz`) : undefined,
        });
      }
    }
  };
  walk(root);
  return files;
}

function send(file: ConsoleFile, request: FastifyRequest, reply: FastifyReply, immutable: boolean): FastifyReply {
  // index.html names its assets by content hash, so an asset never changes under its name.
  reply.header('content-type', file.contentType).header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  reply.header('vary', 'accept-encoding');
  const accepts = request.headers['accept-encoding'];
  if (file.gzipped !== undefined && typeof accepts === 'string' && /\bgzip\b/.test(accepts)) {
    return reply.header('content-encoding', 'gzip').send(file.gzipped);
  }
  return reply.send(file.body);
}

/** Serve the console from `root` (default: the built one), or answer `CONSOLE_NOT_BUILT` where it should be. */
export function registerConsole(app: FastifyInstance, root: string = consoleDirectory()): void {
  const files = readConsole(root);
  void app.register(async (context) => {
    // Every route of the console is public (see above).
    context.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), public: true };
    });
    context.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      return payload;
    });
    const index = files?.get('index.html');
    if (files === undefined || index === undefined) {
      const notBuilt = async (): Promise<never> => {
        throw new ApiError(
          'CONSOLE_NOT_BUILT',
          `the console's files are not in ${root}: run "npm run build:console" (npm install and npm test run it)`,
        );
      };
      for (const url of ['/', '/console', '/console/*']) context.get(url, notBuilt);
      return;
    }
    const page = (request: FastifyRequest, reply: FastifyReply) => send(index, request, reply, false);
    for (const url of ['/', '/console', '/console/', '/console/index.html']) context.get(url, page);
    context.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
      const name = request.params['*'];
      const file = files.get(name);
      if (file === undefined) throw new ApiError('ROUTE_NOT_FOUND', `the console has no file ${JSON.stringify(name)}`);
      return send(file, request, reply, true);
    });
  });
}
