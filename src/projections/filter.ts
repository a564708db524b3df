import { aggregateOf } from '../aggregate-name.js';
import type { StoredEvent } from '../store/types.js';
import type { ProjectionFilter } from './types.js';

/** A predicate over stored events; undefined when the filter lets everything through. */
export function compileFilter(filter: ProjectionFilter | undefined): ((event: StoredEvent) => boolean) | undefined {
  if (!filter) return undefined;
  const aggregates = filter.aggregates && new Set(filter.aggregates);
  const streams = filter.streams && new Set(filter.streams);
  const types = filter.types && new Set(filter.types);
  if (!aggregates && !streams && !types) return undefined;
  return (event) => {
    if (types && !types.has(event.type)) return false;
    if (streams && !streams.has(event.stream)) return false;
    if (aggregates && !aggregates.has(aggregateOf(event.stream))) return false;
    return true;
  };
}
