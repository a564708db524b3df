/**
 * Projections, relays and remote subscribers (`GET /v1/projections`): position, lag, state and
 * last error, refreshed every two seconds; a reset (`POST /v1/projections/:name/reset`) asks for
 * confirmation first.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ProjectionEntry, ProjectionList } from '../../src/protocol/http.js';
import { api } from './api.js';
import { ErrorNote, useLoad } from './ui.js';

function Reset({ entry, done }: { entry: ProjectionEntry; done: () => void }) {
  const [asking, setAsking] = useState(false);
  const [position, setPosition] = useState('0');
  const [error, setError] = useState<unknown>();
  if (!asking) {
    return (
      <button type="button" onClick={() => setAsking(true)}>
        Reset…
      </button>
    );
  }
  const confirm = async () => {
    try {
      await api(`/v1/projections/${encodeURIComponent(entry.name)}/reset`, { method: 'POST', body: { position: Number(position) } });
      setAsking(false);
      setError(undefined);
      done();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div class="confirm" role="group" aria-label={`Reset ${entry.name}`}>
      <label>
        Replay after position <input name="position" value={position} onInput={(e) => setPosition(e.currentTarget.value)} size={6} />
      </label>
      <button type="button" class="danger" onClick={() => void confirm()}>
        Confirm reset of {entry.name}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
      <ErrorNote error={error} />
    </div>
  );
}

/** The fields a kind has beyond the common ones: a relay's target and state, a subscriber's connections. */
const DETAILS = ['failures', 'target', 'state', 'connections', 'delivered'];

function lastError(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (typeof value === 'object' && 'code' in value) {
    const { code, message } = value as { code: string; message?: string };
    return message === undefined ? code : `${code}: ${message}`;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function Projections() {
  const list = useLoad((signal) => api<ProjectionList>('/v1/projections', { signal }), []);
  useEffect(() => {
    const timer = setInterval(list.reload, 2_000);
    return () => clearInterval(timer);
  }, []);
  const projections = list.value?.projections ?? [];
  return (
    <>
      <h1>Projections, relays and subscribers</h1>
      <ErrorNote error={list.error} />
      <div class="table-box">
        <table data-testid="projections">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Position</th>
              <th>Lag</th>
              <th>Details</th>
              <th>Last error</th>
              <th>Reset</th>
            </tr>
          </thead>
          <tbody>
            {projections.map((p) => (
              <tr key={`${p.kind}:${p.name}`} data-name={p.name}>
                <td>{p.name}</td>
                <td>{p.kind}</td>
                <td>{p.status}</td>
                <td data-testid="position">{p.position}</td>
                <td>{p.lag}</td>
                <td>
                  {DETAILS.filter((key) => p[key] !== undefined).map((key) => (
                    <div key={key}>
                      <span class="muted">{key}</span> {typeof p[key] === 'object' ? JSON.stringify(p[key]) : String(p[key])}
                    </div>
                  ))}
                </td>
                <td>{lastError(p.lastError)}</td>
                <td>
                  <Reset entry={p} done={list.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.value && projections.length === 0 && (
        <p class="muted">None: start the runtime with --projection or a relay, or connect a subscriber.</p>
      )}
    </>
  );
}
