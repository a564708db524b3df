/**
 * The modules the runtime serves.
 *
 *   GET /v1/modules          what each module describes, and the files refused
 *   PUT /v1/modules/:name    body: the module's bytes (application/wasm or application/octet-stream)
 */
import type { FastifyInstance } from 'fastify';
import type { ModuleInfo, ModuleList, PublishedModule } from '../../protocol/http.js';
import { MAX_MODULE_BYTES } from '../../engine/index.js';
import type { LoadedModule } from '../../engine/index.js';
import { ApiError } from '../api-errors.js';
import type { ModuleDirectory } from '../module-directory.js';
import { STRING } from '../request-validation.js';
import type { RouteContext } from './context.js';

/** The largest module upload, in bytes: the largest module file the loader reads. */
export const MODULE_BODY_LIMIT = MAX_MODULE_BYTES;

/** A module as the API shows it: the client's `ModuleInfo` (src/protocol/http.ts). */
export type ModuleView = ModuleInfo;

export function moduleView(module: LoadedModule, directory: ModuleDirectory): ModuleView {
  const { name, version, commands, events } = module.description;
  const view: ModuleView = {
    name: module.name,
    file: directory.displayPath(directory.fileOf(module.name)),
    revision: module.version,
    description: { name, version, commands: [...commands], events: [...events] },
    supportsSnapshots: module.supportsSnapshots,
  };
  const sha256 = directory.hashOf(module.name);
  if (sha256 !== undefined) view.sha256 = sha256;
  const stored = directory.revisionOf(module.name);
  if (stored !== undefined)
    view.stored = { revision: stored.revision, publishedAt: new Date(stored.publishedAt).toISOString(), publishedBy: stored.publishedBy };
  return view;
}

export function registerModuleRoutes(app: FastifyInstance, { engine, modules }: RouteContext): void {
  app.addContentTypeParser(
    ['application/wasm', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: MODULE_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );

  app.get('/v1/modules', async (): Promise<ModuleList> => ({
    modules: engine
      .modules()
      .map((m) => moduleView(m, modules))
      .sort((a, b) => a.name.localeCompare(b.name)),
    refused: modules.refusedFiles(),
  }));

  // The name's own rules (a module name, no path) are the module directory's.
  const schema = { params: { type: 'object', properties: { name: STRING } } };
  app.put<{ Params: { name: string }; Body: Buffer }>('/v1/modules/:name', { bodyLimit: MODULE_BODY_LIMIT, schema }, async (request) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the module as application/wasm or application/octet-stream');
    }
    const loaded = await modules.publish(request.params.name, body);
    return { module: moduleView(loaded, modules) } satisfies PublishedModule;
  });
}
