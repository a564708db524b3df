/**
 * Streams: find them by aggregate and id prefix, page by page (`GET /v1/streams`), and read one:
 * its events with their metadata, payloads folded, causation ids linked to the events they name,
 * and its state at any seq (`GET /v1/aggregates/:aggregate/:id/state?at=`) with what changed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ExecutedEvent } from '../../src/protocol/commands.js';
import type { AggregateStateAt, ModuleList, StreamList, StreamPage } from '../../src/protocol/http.js';
import { api } from './api.js';
import { diff } from './diff.js';
import { JsonView } from './json-view.js';
import { ErrorNote, streamHref, time, useLoad } from './ui.js';

const PAGE = 50;

export function StreamList() {
  const modules = useLoad((signal) => api<ModuleList>('/v1/modules', { signal }), []);
  const [aggregate, setAggregate] = useState('');
  const [prefix, setPrefix] = useState('');
  const [query, setQuery] = useState({ aggregate: '', prefix: '' });
  const [pages, setPages] = useState<StreamList[]>([]);
  const [error, setError] = useState<unknown>();

  // Each search aborts the loads of the one before, so a late answer to an earlier search (the
  // page's first, unfiltered list, say) never replaces the streams of the latest.
  const search = useRef(new AbortController());
  const load = async (after: string | null, signal: AbortSignal) => {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (query.aggregate) params.set('aggregate', query.aggregate);
    if (query.prefix) params.set('prefix', query.prefix);
    if (after) params.set('after', after);
    try {
      const page = await api<StreamList>(`/v1/streams?${params}`, { signal });
      if (signal.aborted) return;
      setPages((list) => (after ? [...list, page] : [page]));
      setError(undefined);
    } catch (failure) {
      if (!signal.aborted) setError(failure);
    }
  };
  useEffect(() => {
    const controller = new AbortController();
    search.current = controller;
    void load(null, controller.signal);
    return () => controller.abort();
  }, [query]);

  const streams = pages.flatMap((p) => p.streams);
  const next = pages.at(-1)?.next ?? null;
  return (
    <>
      <h1>Streams</h1>
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ aggregate, prefix });
        }}
      >
        <label>
          Aggregate{' '}
          <select name="aggregate" value={aggregate} onChange={(e) => setAggregate(e.currentTarget.value)}>
            <option value="">any</option>
            {(modules.value?.modules ?? []).map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {aggregate ? 'Id prefix' : 'Stream prefix'}{' '}
          <input name="prefix" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} size={16} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={error} />
      <div class="table-box">
        <table data-testid="streams">
          <thead>
            <tr>
              <th>Stream</th>
              <th>Aggregate</th>
              <th>Id</th>
              <th>Version</th>
            </tr>
          </thead>
          <tbody>
            {streams.map((s) => (
              <tr key={s.stream}>
                <td>
                  <a href={streamHref(s.aggregate, s.id)}>{s.stream}</a>
                </td>
                <td>{s.aggregate}</td>
                <td>{s.id}</td>
                <td>{s.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages.length > 0 && streams.length === 0 && <p class="muted">No stream matches.</p>}
      {next !== null && (
        <button type="button" onClick={() => void load(next, search.current.signal)}>
          Next {PAGE}
        </button>
      )}
    </>
  );
}

/** Scroll to an event without changing the page's route (the route lives in the hash too). */
function jumpTo(event: MouseEvent, anchor: string): void {
  event.preventDefault();
  const target = document.getElementById(`ev-${anchor}`);
  target?.scrollIntoView({ block: 'center' });
  target?.focus();
}

function StatePanel({ aggregate, id, latest }: { aggregate: string; id: string; latest: number }) {
  // null: the latest state, whatever its seq.
  const [at, setAt] = useState<number | null>(null);
  useEffect(() => setAt(null), [aggregate, id, latest]);
  const base = `/v1/aggregates/${encodeURIComponent(aggregate)}/${encodeURIComponent(id)}/state`;
  const current = useLoad((signal) => api<AggregateStateAt>(at === null ? base : `${base}?at=${at}`, { signal }), [base, at, latest]);
  const seq = current.value?.seq ?? 0;
  const version = current.value?.version ?? 0;
  const previous = useLoad(
    (signal) => (seq > 0 ? api<AggregateStateAt>(`${base}?at=${seq - 1}`, { signal }) : Promise.resolve(undefined)),
    [base, seq, current.value],
  );
  const changes = current.value && previous.value ? diff(previous.value.state, current.value.state) : [];
  return (
    <section class="panel" aria-labelledby="state-title">
      <h2 id="state-title">State</h2>
      <div class="toolbar">
        <button type="button" onClick={() => setAt(Math.max(0, seq - 1))} disabled={!current.value || seq <= 0}>
          ◀ Back
        </button>
        <label>
          At seq{' '}
          <input
            type="number"
            name="at"
            min={0}
            max={version}
            value={seq}
            onChange={(e) => setAt(Math.min(version, Math.max(0, Math.floor(Number(e.currentTarget.value) || 0))))}
            style={{ width: '6em' }}
          />
        </label>
        <span class="muted">of {version}</span>
        <button type="button" onClick={() => setAt(Math.min(version, seq + 1))} disabled={!current.value || seq >= version}>
          Forward ▶
        </button>
      </div>
      <ErrorNote error={current.error} />
      {current.value && (
        <div data-testid="state" data-seq={current.value.seq}>
          <p class="muted">
            After seq {current.value.seq}
            {current.value.undecodable ? ` (the snapshot is not msgpack: ${current.value.undecodable.reason})` : ''}
          </p>
          <JsonView value={current.value.state} />
          {seq > 0 && (
            <>
              <h3>Changed by seq {seq}</h3>
              {changes.length === 0 ? (
                <p class="muted">Nothing.</p>
              ) : (
                <ul class="changes" data-testid="changes">
                  {changes.map((c) => (
                    <li key={c.path}>
                      <code>{c.path}</code>: {c.kind === 'added' ? 'added ' : <s>{JSON.stringify(c.before)}</s>}{' '}
                      {c.kind === 'removed' ? 'removed' : <b>{JSON.stringify(c.after)}</b>}
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </div>
      )}
    </section>
  );
}

function Metadata({ event, anchors }: { event: ExecutedEvent; anchors: Map<string, string> }) {
  const { correlationId, causationId, commandId, headers } = event.metadata as {
    correlationId?: string;
    causationId?: string;
    commandId?: string;
    headers?: Record<string, string>;
  };
  // A correlation or causation id that is an event or a command of this stream links to that event.
  const link = (value: string) => {
    const anchor = anchors.get(value);
    return anchor === undefined ? (
      <code>{value}</code>
    ) : (
      <a href={`#ev-${anchor}`} onClick={(e) => jumpTo(e, anchor)}>
        {value}
      </a>
    );
  };
  return (
    <dl class="metadata">
      <dt>Event id</dt>
      <dd>
        <code>{event.id}</code>
      </dd>
      {commandId !== undefined && (
        <>
          <dt>Command id</dt>
          <dd>
            <code>{commandId}</code>
          </dd>
        </>
      )}
      {correlationId !== undefined && (
        <>
          <dt>Correlation</dt>
          <dd>{link(correlationId)}</dd>
        </>
      )}
      {causationId !== undefined && (
        <>
          <dt>Causation</dt>
          <dd>{link(causationId)}</dd>
        </>
      )}
      {headers !== undefined && (
        <>
          <dt>Headers</dt>
          <dd>
            <JsonView value={headers} depth={0} />
          </dd>
        </>
      )}
    </dl>
  );
}

export function StreamView({ aggregate, id }: { aggregate: string; id: string }) {
  const [events, setEvents] = useState<ExecutedEvent[]>([]);
  const [next, setNext] = useState<number | null>(1);
  const [error, setError] = useState<unknown>();
  const [correlation, setCorrelation] = useState<string | null>(null);
  const path = `/v1/aggregates/${encodeURIComponent(aggregate)}/${encodeURIComponent(id)}/events`;

  // As in StreamList: opening another stream aborts the loads of the one before.
  const opened = useRef(new AbortController());
  const load = async (from: number, reset: boolean, signal: AbortSignal) => {
    try {
      const page = await api<StreamPage>(`${path}?from=${from}&limit=${PAGE}`, { signal });
      if (signal.aborted) return;
      setEvents((list) => (reset ? page.events : [...list, ...page.events]));
      setNext(page.next);
      setError(undefined);
    } catch (failure) {
      if (!signal.aborted) setError(failure);
    }
  };
  useEffect(() => {
    const controller = new AbortController();
    opened.current = controller;
    void load(1, true, controller.signal);
    return () => controller.abort();
  }, [path]);

  // Ids a correlation or causation may name: this stream's events, and the commands that wrote
  // them (the first event of each).
  const anchors = new Map<string, string>();
  for (const e of events) {
    anchors.set(e.id, e.id);
    const commandId = (e.metadata as { commandId?: string }).commandId;
    if (commandId !== undefined && !anchors.has(commandId)) anchors.set(commandId, e.id);
  }
  const shown =
    correlation === null ? events : events.filter((e) => (e.metadata as { correlationId?: string }).correlationId === correlation);
  return (
    <>
      <p>
        <a href="#/streams">← Streams</a>
      </p>
      <h1>
        {aggregate}-{id}
      </h1>
      <ErrorNote error={error} />
      <div class="columns">
        <section aria-labelledby="events-title">
          <h2 id="events-title">Events</h2>
          {correlation !== null && (
            <p>
              Correlation <code>{correlation}</code> only.{' '}
              <button type="button" onClick={() => setCorrelation(null)}>
                Show all
              </button>
            </p>
          )}
          <ol class="events" data-testid="events">
            {shown.map((e) => {
              const correlationId = (e.metadata as { correlationId?: string }).correlationId;
              return (
                <li key={e.position} id={`ev-${e.id}`} data-seq={e.seq} tabIndex={-1}>
                  <header>
                    <strong>
                      #{e.seq} {e.type}
                    </strong>{' '}
                    <span class="muted">
                      position {e.position} · {time(e.timestamp)}
                    </span>
                    {correlationId !== undefined && (
                      <button type="button" class="link" onClick={() => setCorrelation(correlationId)}>
                        same correlation
                      </button>
                    )}
                  </header>
                  <JsonView value={e.data} />
                  {e.undecodable && <p class="error">Undecodable: {e.undecodable.reason}</p>}
                  <details>
                    <summary>Metadata</summary>
                    <Metadata event={e} anchors={anchors} />
                  </details>
                </li>
              );
            })}
          </ol>
          {next !== null && events.length > 0 && (
            <button type="button" onClick={() => void load(next, false, opened.current.signal)}>
              More events
            </button>
          )}
          {events.length === 0 && !error && <p class="muted">No events.</p>}
        </section>
        {events.length > 0 && <StatePanel aggregate={aggregate} id={id} latest={events.at(-1)!.seq} />}
      </div>
    </>
  );
}
