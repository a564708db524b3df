/**
 * Aggregate names and the streams of their instances, written once: the module loader, `thalo
 * build`, the modules directory, the engine, the read routes, projection filters and relay
 * templates all name and split streams the same way. A stream of an aggregate instance is
 * `<aggregate>-<id>`; an aggregate name holds no `-`, so the first `-` of a stream ends its
 * aggregate (the id may hold more). Imports nothing, so every folder may use it.
 *
 * @example
 *   streamName('counter', 'abc-1')   // 'counter-abc-1'
 *   aggregateOf('counter-abc-1')     // 'counter'
 */

/** An aggregate's name, the module file's stem: a letter, then letters, digits or `_`, at most 64. */
export const AGGREGATE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Why `name` is not a valid aggregate name, for messages; undefined when it is one. */
export function aggregateNameProblem(name: string): string | undefined {
  if (AGGREGATE_NAME.test(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid aggregate name (a letter, then letters, digits or _; at most 64)`;
}

/** The stream of aggregate instance `id`: `<aggregate>-<id>`. The store's own name rules still apply to it. */
export function streamName(aggregate: string, id: string): string {
  return `${aggregate}-${id}`;
}

/** The aggregate (a relay's `{category}`) of a stream: what comes before its first `-`, or the whole name without one. */
export function aggregateOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}
