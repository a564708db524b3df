/**
 * Request validation through the routes' JSON schemas (`request-schemas.ts`), with one Ajv
 * instance of our own, and the errors it reports in the API's words.
 *
 * Fastify's default Ajv coerces types and drops unknown fields, which suits neither half of the
 * API: a body `{"position": true}` would have become 1 and a misspelt `"positon"` silently vanished,
 * while its integer coercion of a query string takes `0x10`, ` 5` and `1e3`, and rounds
 * `99999999999999999`. So nothing is coerced here; a number written as text (a query parameter, a
 * header) declares `decimal`, which takes plain digits only, checks the range on the text's
 * exact value, and hands the route a number.
 *
 * Each schema names what it wants in its `description` ("an integer from 1 to 10000"), so a
 * failure reads `query parameter limit must be an integer from 1 to 10000, got "abc"`, naming
 * the field as the hand-written checks did. `errorCode` marks the schemas whose failure is not
 * `INVALID_ARGUMENT` (a command payload that is no object is `INVALID_PAYLOAD`), and `title` the
 * name to show when it is not the field's own (`Last-Event-ID`, not `last-event-id`).
 */
import { Ajv } from 'ajv';
import type { AnySchema, ErrorObject, SchemaObject } from 'ajv';

/** `decimal: { minimum, maximum, emptyIsAbsent? }`: the text of an integer in that range. */
export interface DecimalRange {
  minimum: number;
  maximum: number;
  /** `?from=` reads as no `from` at all, as it always did. */
  emptyIsAbsent?: boolean;
}

/** Plain digits, at most 16 of them: `Number()` of more could round (the range check sees the rest). */
const DIGITS = /^[0-9]{1,16}$/;

const ajv = new Ajv({
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  // The first failure is enough to name, and it spares the rest of a 10,000-command batch.
  allErrors: false,
  // Errors carry the failing value and its schema, from which the message is written.
  verbose: true,
  allowUnionTypes: true,
  keywords: ['errorCode'],
});
ajv.addKeyword({
  keyword: 'decimal',
  type: 'string',
  schemaType: 'object',
  modifying: true,
  validate(
    range: DecimalRange,
    data: string,
    _schema?: AnySchema,
    context?: { parentData: Record<string, unknown>; parentDataProperty: string | number },
  ) {
    if (context === undefined) return false;
    if (data === '' && range.emptyIsAbsent) {
      delete context.parentData[context.parentDataProperty];
      return true;
    }
    if (!DIGITS.test(data) || Number(data) < range.minimum || Number(data) > range.maximum) return false;
    context.parentData[context.parentDataProperty] = Number(data);
    return true;
  },
});

/** Fastify's validator compiler: every part of every route through the Ajv above. */
export function compileRequestSchema({ schema }: { schema: unknown }): ReturnType<Ajv['compile']> {
  return ajv.compile(schema as SchemaObject);
}

/** What `request-schemas.ts` writes into a schema besides JSON Schema's own words. */
interface Annotated {
  description?: string;
  title?: string;
  errorCode?: 'INVALID_ARGUMENT' | 'INVALID_PAYLOAD';
  properties?: Record<string, Annotated>;
}

/** A value as a message quotes it: strings quoted and cut, collections by their kind. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
}

/** A header as the docs write it (`Thalo-Expected-Version`); Node gives them lowercased. */
function shownHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** The path of a value inside a request part, in the words of the hand-written checks it replaced. */
function placeOf(part: string, path: (string | number)[], title: string | undefined): string {
  const [first] = path;
  if (part === 'querystring') return `query parameter ${title ?? first}`;
  if (part === 'headers') return `header ${title ?? shownHeader(String(first))}`;
  if (part === 'params') return `path parameter ${title ?? first}`;
  if (first === undefined) return 'the body';
  if (path.length === 1) return `body field ${first}`;
  // `commands[3].id`, as a batch's items were always named.
  return path.map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`)).join('');
}

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((step) => step.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((step) => (/^[0-9]+$/.test(step) ? Number(step) : step));
}

/**
 * The code and message of a failed validation of request part `part` (`body`, `querystring`,
 * `headers`, `params`), from Ajv's first error.
 */
export function validationFailure(errors: ErrorObject[], part: string): { code: 'INVALID_ARGUMENT' | 'INVALID_PAYLOAD'; message: string } {
  const error = errors[0];
  if (error === undefined) return { code: 'INVALID_ARGUMENT', message: `the request's ${part} is not valid` };
  const path = pathOf(error.instancePath);
  const schema = (error.parentSchema ?? {}) as Annotated;
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const field = schema.properties?.[missing] ?? {};
    const message = `${placeOf(part, [...path, missing], field.title)} must be ${field.description ?? 'given'}, got nothing`;
    return { code: field.errorCode ?? 'INVALID_ARGUMENT', message };
  }
  if (error.keyword === 'additionalProperties') {
    const unknown = (error.params as { additionalProperty: string }).additionalProperty;
    const known = Object.keys(schema.properties ?? {}).map((name) => JSON.stringify(name));
    const place = path.length === 0 ? (part === 'body' ? 'the body' : `the ${part}`) : placeOf(part, path, undefined);
    return {
      code: 'INVALID_ARGUMENT',
      message: `${place} has an unknown field ${JSON.stringify(unknown)} (it takes only ${known.join(', ')})`,
    };
  }
  const wanted = schema.description ?? error.message ?? 'valid';
  return {
    code: schema.errorCode ?? 'INVALID_ARGUMENT',
    message: `${placeOf(part, path, schema.title)} must be ${wanted}, got ${shown(error.data)}`,
  };
}

/**
 * The schema of an integer sent as text (a query parameter, a header), `minimum` to `maximum`;
 * the route receives a number.
 *
 * @example
 *   querystring: { type: 'object', properties: { limit: decimalText({ minimum: 1, maximum: 10_000 }) } }
 */
export function decimalText(range: DecimalRange, description = `an integer from ${range.minimum} to ${range.maximum}`): SchemaObject {
  return { type: 'string', decimal: range, description };
}

/** The schema of a string field or parameter. */
export const STRING: SchemaObject = { type: 'string', description: 'a string' };
