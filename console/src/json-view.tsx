/**
 * JSON shown folded: objects and arrays as <details> the reader opens (keyboard too: a summary is
 * a button to assistive technology), the top level open, scalars inline.
 */
import type { ComponentChildren } from 'preact';

function scalar(value: unknown): ComponentChildren {
  if (typeof value === 'string') return <span class="json-string">{JSON.stringify(value)}</span>;
  if (value === null) return <span class="json-null">null</span>;
  return <span class="json-scalar">{String(value)}</span>;
}

function Node({ name, value, depth }: { name?: string; value: unknown; depth: number }) {
  const label = name === undefined ? null : <span class="json-key">{name}: </span>;
  if (value === null || typeof value !== 'object') {
    return (
      <div class="json-line">
        {label}
        {scalar(value)}
      </div>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const shape = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  if (entries.length === 0) {
    return (
      <div class="json-line">
        {label}
        <span class="json-null">{Array.isArray(value) ? '[]' : '{}'}</span>
      </div>
    );
  }
  return (
    <details class="json-node" open={depth > 0}>
      <summary>
        {label}
        <span class="json-shape">{shape}</span>
      </summary>
      <div class="json-children">
        {entries.map(([key, child]) => (
          <Node key={key} name={key} value={child} depth={depth - 1} />
        ))}
      </div>
    </details>
  );
}

/** `value` folded below `depth` levels (1: the top level open; 0: all folded). */
export function JsonView({ value, depth = 1 }: { value: unknown; depth?: number }) {
  return (
    <div class="json">
      <Node value={value} depth={depth} />
    </div>
  );
}
