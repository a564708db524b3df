/**
 * `thalo-runtime --projection <file>`: in-process projections given as ES modules. Each file's
 * default export is a `ProjectionDefinition` (`{ name, handle, options }`); the runtime imports
 * it before it listens, so a file that cannot be used stops the start with a message naming it,
 * rather than leaving a read model silently unfed.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProjectionDefinition } from '../projections/index.js';

/** A projection file that cannot be used; the message names the file and what is wrong. */
export class ProjectionFileError extends Error {
  override name = 'ProjectionFileError';
}

/** Import `file` and check the shape of its default export. */
export async function loadProjectionFile(file: string): Promise<ProjectionDefinition> {
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(resolve(file)).href)) as { default?: unknown }).default;
  } catch (cause) {
    throw new ProjectionFileError(`projection file ${file} cannot be imported: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
  if (typeof exported !== 'object' || exported === null) {
    throw new ProjectionFileError(
      `projection file ${file} must export default { name, handle, options? }, got ${exported === null ? 'null' : typeof exported}`,
    );
  }
  const definition = exported as Partial<ProjectionDefinition>;
  if (typeof definition.name !== 'string' || definition.name === '')
    throw new ProjectionFileError(`projection file ${file}: its default export's name must be a non-empty string`);
  if (typeof definition.handle !== 'function')
    throw new ProjectionFileError(
      `projection file ${file}: its default export's handle must be a function (events, context) => void | Promise<void>`,
    );
  if (definition.options !== undefined && (typeof definition.options !== 'object' || definition.options === null)) {
    throw new ProjectionFileError(`projection file ${file}: its default export's options must be an object`);
  }
  return definition as ProjectionDefinition;
}
