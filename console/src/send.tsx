/**
 * Send a command: aggregate and command from the modules' descriptions, a JSON payload, an
 * optional expected version and command id; the answer is the events, or the error with its code
 * and data (a rejection's code is the aggregate's own, in `data.code`).
 */
import { useState } from 'preact/hooks';
import type { ExecuteResult } from '../../src/protocol/commands.js';
import type { ModuleList } from '../../src/protocol/http.js';
import { ApiFailure, api } from './api.js';
import { JsonView } from './json-view.js';
import { ErrorNote, streamHref, useLoad } from './ui.js';

export function SendCommand() {
  const modules = useLoad((signal) => api<ModuleList>('/v1/modules', { signal }), []);
  const [aggregate, setAggregate] = useState('');
  const [command, setCommand] = useState('');
  const [id, setId] = useState('');
  const [payload, setPayload] = useState('{}');
  const [expected, setExpected] = useState('');
  const [commandId, setCommandId] = useState('');
  const [result, setResult] = useState<ExecuteResult>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const list = modules.value?.modules ?? [];
  const module = list.find((m) => m.name === aggregate) ?? list[0];
  const chosenAggregate = module?.name ?? '';
  const chosenCommand = module?.description.commands.includes(command) ? command : (module?.description.commands[0] ?? '');

  const submit = async (e: Event) => {
    e.preventDefault();
    setResult(undefined);
    setError(undefined);
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch (failure) {
      setError(new Error(`The payload is not JSON: ${(failure as Error).message}`));
      return;
    }
    const headers: Record<string, string> = {};
    if (expected.trim() !== '') headers['thalo-expected-version'] = expected.trim();
    if (commandId.trim() !== '') headers['thalo-command-id'] = commandId.trim();
    setBusy(true);
    try {
      const path = `/v1/aggregates/${encodeURIComponent(chosenAggregate)}/${encodeURIComponent(id)}/commands/${encodeURIComponent(chosenCommand)}`;
      setResult(await api<ExecuteResult>(path, { method: 'POST', body, headers }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const rejection =
    error instanceof ApiFailure && error.body.code === 'COMMAND_REJECTED' ? (error.body.data as { code?: string }) : undefined;
  return (
    <>
      <h1>Send a command</h1>
      <ErrorNote error={modules.error} />
      <form class="form" onSubmit={submit}>
        <label>
          Aggregate
          <select name="aggregate" value={chosenAggregate} onChange={(e) => setAggregate(e.currentTarget.value)}>
            {list.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Id
          <input name="id" value={id} onInput={(e) => setId(e.currentTarget.value)} required />
        </label>
        <label>
          Command
          <select name="command" value={chosenCommand} onChange={(e) => setCommand(e.currentTarget.value)}>
            {(module?.description.commands ?? []).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label class="wide">
          Payload (JSON)
          <textarea name="payload" rows={6} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} spellcheck={false} />
        </label>
        <label>
          Expected version <span class="muted">(optional: any, no_stream, exists or a seq)</span>
          <input name="expected" value={expected} onInput={(e) => setExpected(e.currentTarget.value)} />
        </label>
        <label>
          Command id <span class="muted">(optional, for a safe retry)</span>
          <input name="commandId" value={commandId} onInput={(e) => setCommandId(e.currentTarget.value)} />
        </label>
        <div>
          <button type="submit" disabled={busy || chosenAggregate === ''}>
            Send
          </button>
        </div>
      </form>
      {rejection && (
        <p class="rejection" data-testid="rejection">
          Rejected by {chosenAggregate}: <strong>{rejection.code}</strong>
        </p>
      )}
      <ErrorNote error={error} />
      {result && (
        <section data-testid="result" aria-live="polite">
          <h2>
            {result.duplicate ? 'Already executed (duplicate command id)' : 'Executed'}:{' '}
            <a href={streamHref(result.aggregate, result.id)}>{result.stream}</a> at version {result.version}
          </h2>
          <ol class="events">
            {result.events.map((e) => (
              <li key={e.position}>
                <strong>
                  #{e.seq} {e.type}
                </strong>{' '}
                <span class="muted">position {e.position}</span>
                <JsonView value={e.data} />
              </li>
            ))}
          </ol>
          {result.events.length === 0 && <p class="muted">No events.</p>}
        </section>
      )}
    </>
  );
}
