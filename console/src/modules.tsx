/** Modules: what each serves, the files refused, and uploading a new `.wasm` (`PUT /v1/modules/:name`). */
import { useState } from 'preact/hooks';
import type { ModuleList, PublishedModule } from '../../src/protocol/http.js';
import { api } from './api.js';
import { ErrorNote, useLoad } from './ui.js';

export function Modules() {
  const modules = useLoad((signal) => api<ModuleList>('/v1/modules', { signal }), []);
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [published, setPublished] = useState<PublishedModule>();
  const [error, setError] = useState<unknown>();

  const upload = async (e: Event) => {
    e.preventDefault();
    setPublished(undefined);
    setError(undefined);
    if (!file) return;
    const moduleName = name.trim() || file.name.replace(/\.wasm$/, '');
    try {
      setPublished(
        await api<PublishedModule>(`/v1/modules/${encodeURIComponent(moduleName)}`, { method: 'PUT', body: await file.arrayBuffer() }),
      );
      modules.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <>
      <h1>Modules</h1>
      <ErrorNote error={modules.error} />
      <div class="table-box">
        <table data-testid="modules">
          <thead>
            <tr>
              <th>Name</th>
              <th>Version</th>
              <th>Revision</th>
              <th>Commands</th>
              <th>Events</th>
              <th>Snapshots</th>
              <th>File</th>
            </tr>
          </thead>
          <tbody>
            {(modules.value?.modules ?? []).map((m) => (
              <tr key={m.name}>
                <td>{m.name}</td>
                <td>{m.description.version}</td>
                <td>{m.revision}</td>
                <td>{m.description.commands.join(', ')}</td>
                <td>{m.description.events.join(', ')}</td>
                <td>{m.supportsSnapshots ? 'yes' : 'no'}</td>
                <td>
                  <code>{m.file}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {(modules.value?.refused.length ?? 0) > 0 && (
        <>
          <h2>Refused files</h2>
          <ul>
            {modules.value!.refused.map((r) => (
              <li key={r.file}>
                <code>{r.file}</code>: <strong>{r.error.code}</strong> {r.error.message}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Upload a module</h2>
      <form class="form" onSubmit={upload}>
        <label>
          File (.wasm)
          <input
            type="file"
            name="file"
            accept=".wasm,application/wasm"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            required
          />
        </label>
        <label>
          Name <span class="muted">(default: the file's name)</span>
          <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <div>
          <button type="submit" disabled={!file}>
            Upload
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {published && (
        <p class="ok" role="status">
          Validated and serving <strong>{published.module.name}</strong> {published.module.description.version} (revision{' '}
          {published.module.revision}).
        </p>
      )}
    </>
  );
}
