/**
 * Thalo for Node: the package root. Names exactly what the package exports.
 */
export { ThaloError, isThaloError, serializeError, deserializeError } from './errors.js';
export type { ThaloErrorCode, SerializedError } from './errors.js';
