/**
 * The PostgreSQL schema names the store accepts, apart from the code that talks to PostgreSQL so
 * that checking options does not load the client.
 */
import { ThaloError } from '../../errors.js';

/** A schema name we accept: lowercase letters, digits and `_`, up to 63 bytes, as PostgreSQL names go unquoted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export const DEFAULT_SCHEMA = 'thalo';

/** Throws `INVALID_ARGUMENT` unless `schema` is a schema name the store accepts. */
export function checkSchemaName(schema: unknown, where = 'options.schema'): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new ThaloError(
      'INVALID_ARGUMENT',
      `${where} must be 1 to 63 lowercase letters, digits or "_", not starting with a digit, got ${JSON.stringify(schema)}`,
    );
  }
  return schema;
}
