/** Small pieces every page uses: an error's display, loading a value, times and links. */
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from './api.js';
import { JsonView } from './json-view.js';

/** An error as the API gave it: code, message and data. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  if (error instanceof ApiFailure) {
    return (
      <div class="error" role="alert" data-code={error.body.code}>
        <strong class="error-code">{error.body.code}</strong> <span>{error.body.message}</span>
        {error.body.data !== undefined && <JsonView value={error.body.data} depth={3} />}
      </div>
    );
  }
  return (
    <div class="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </div>
  );
}

export interface Loaded<T> {
  value: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Load `load()` now and each time `deps` change or `reload` is called. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ value: T | undefined; error: unknown; loading: boolean }>({
    value: undefined,
    error: undefined,
    loading: true,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (value) => !controller.signal.aborted && setState({ value, error: undefined, loading: false }),
      (error: unknown) => !controller.signal.aborted && setState({ value: undefined, error, loading: false }),
    );
    return () => controller.abort();
  }, [...deps, round]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

export function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The console's address of a stream's page. */
export function streamHref(aggregate: string, id: string): string {
  return `#/streams/${encodeURIComponent(aggregate)}/${encodeURIComponent(id)}`;
}
