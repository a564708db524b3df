/** What changed between two states, for the state panel (pure: tested in test/console/metrics.test.ts). */

/** One difference between two JSON values, by path (`balance`, `items.2.done`). */
export interface Change {
  path: string;
  before?: unknown;
  after?: unknown;
  kind: 'added' | 'removed' | 'changed';
}

/** What changed from `before` to `after`, leaf by leaf. */
export function diff(before: unknown, after: unknown, path = ''): Change[] {
  const isTree = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';
  if (isTree(before) && isTree(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => {
      const at = path === '' ? key : `${path}.${key}`;
      if (!(key in before)) return [{ path: at, after: after[key], kind: 'added' as const }];
      if (!(key in after)) return [{ path: at, before: before[key], kind: 'removed' as const }];
      return diff(before[key], after[key], at);
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: path === '' ? '(the whole state)' : path, before, after, kind: 'changed' }];
}
