/**
 * The console's shell: the navigation, the route (in the URL's hash, so that the runtime serves
 * one page), and the token prompt shown whenever the API answers 401.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { onUnauthorized, setToken, token } from './api.js';
import { Modules } from './modules.js';
import { Overview } from './overview.js';
import { Projections } from './projections.js';
import { SendCommand } from './send.js';
import { StreamList, StreamView } from './streams.js';
import './style.css';

const PAGES = [
  { path: 'overview', label: 'Overview' },
  { path: 'streams', label: 'Streams' },
  { path: 'send', label: 'Send a command' },
  { path: 'modules', label: 'Modules' },
  { path: 'projections', label: 'Projections' },
];

function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <div class="token-prompt" role="dialog" aria-modal="true" aria-labelledby="token-title">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value);
          onDone();
        }}
      >
        <h1 id="token-title">This runtime needs its token</h1>
        <p>
          {token() === null ? 'Enter the token the runtime was started with.' : 'The runtime refused the token given; enter it again.'} It
          is kept for this tab only (sessionStorage) and sent with each request as <code>Authorization: Bearer</code>.
        </p>
        <label>
          Token{' '}
          <input
            ref={input}
            type="password"
            name="token"
            autocomplete="off"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            required
          />
        </label>
        <button type="submit">Use this token</button>
      </form>
    </div>
  );
}

function App() {
  const route = useRoute();
  const [unauthorized, setUnauthorized] = useState(false);
  // Remounts the page after a new token, so that it loads again with it.
  const [generation, setGeneration] = useState(0);
  useEffect(() => onUnauthorized(() => setUnauthorized(true)), []);

  const [page, ...rest] = route;
  let content;
  if (page === 'streams' && rest.length >= 2) content = <StreamView aggregate={rest[0]!} id={rest.slice(1).join('/')} />;
  else if (page === 'streams') content = <StreamList />;
  else if (page === 'send') content = <SendCommand />;
  else if (page === 'modules') content = <Modules />;
  else if (page === 'projections') content = <Projections />;
  else content = <Overview />;

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">Thalo</strong>
        <nav aria-label="Console">
          {PAGES.map((p) => (
            <a
              key={p.path}
              href={`#/${p.path}`}
              aria-current={page === p.path || (p.path === 'overview' && !PAGES.some((q) => q.path === page)) ? 'page' : undefined}
            >
              {p.label}
            </a>
          ))}
        </nav>
        {token() !== null && (
          <button
            type="button"
            class="link"
            onClick={() => {
              setToken(null);
              setGeneration((g) => g + 1);
            }}
          >
            Forget token
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {unauthorized ? (
          <TokenPrompt
            onDone={() => {
              setUnauthorized(false);
              setGeneration((g) => g + 1);
            }}
          />
        ) : (
          <div key={generation}>{content}</div>
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
