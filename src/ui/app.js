// The dashboard's shell: asks for the admin token, then shows one page at a time.
// The page is named in the URL's hash (#flows); the token never is.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, REFUSED_EVENT, savedToken, saveToken, tokenProblem } from './api.js';
import { ConnectorsPage } from './connectors.js';
import { DeadLettersPage } from './dead-letters.js';
import { FlowsPage } from './flows.js';
import { html } from './html.js';

const PAGES = {
  flows: { title: 'Flows', view: FlowsPage },
  connectors: { title: 'Connectors', view: ConnectorsPage },
  'dead-letters': { title: 'Dead letters', view: DeadLettersPage },
};

function currentPage() {
  const name = location.hash.replace(/^#\/?/, '');
  return Object.hasOwn(PAGES, name) ? name : 'flows';
}

function SignIn({ message, onToken }) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(message);
  // No action and no GET: the form is never submitted to a URL, so the token cannot end up in one.
  return html`<form class="signin" method="post" onSubmit=${async (e) => {
    e.preventDefault();
    const token = value.trim();
    if (!token) return setError('Enter the admin token (server.adminToken).');
    setBusy(true);
    try {
      await call(token, '/flows');
      onToken(token);
    } catch (err) {
      setError(tokenProblem(err) ?? err.message);
    } finally {
      setBusy(false);
    }
  }}>
    <h1>Junction</h1>
    <p>The dashboard reads the admin API. Enter the admin token (<code>server.adminToken</code>); it is kept in this tab only.</p>
    <label>Admin token <input type="password" name="token" autocomplete="current-password" autofocus value=${value} onInput=${(e) => setValue(e.currentTarget.value)} /></label>
    <button type="submit" class="primary" disabled=${busy}>Sign in</button>
    ${error ? html`<p class="error" role="alert" data-testid="signin-error">${error}</p>` : null}
  </form>`;
}

function App() {
  const [token, setToken] = useState(savedToken());
  const [page, setPage] = useState(currentPage());
  const [refused, setRefused] = useState('');
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  // A token that stops working (rotated on the server) sends the user back to sign in, saying why.
  useEffect(() => {
    const onRefused = (e) => signOut(e.detail);
    addEventListener(REFUSED_EVENT, onRefused);
    return () => removeEventListener(REFUSED_EVENT, onRefused);
  }, []);
  const signOut = (why = '') => {
    saveToken('');
    setToken('');
    setRefused(why);
  };
  if (!token) {
    return html`<${SignIn} message=${refused} onToken=${(t) => {
      saveToken(t);
      setRefused('');
      setToken(t);
    }} />`;
  }
  const View = PAGES[page].view;
  return html`<div class="shell">
    <nav>
      <strong>Junction</strong>
      ${Object.entries(PAGES).map(([name, p]) => html`<a href=${`#${name}`} class=${name === page ? 'active' : ''}>${p.title}</a>`)}
      <button class="link signout" onClick=${() => signOut()}>Sign out</button>
    </nav>
    <main><${View} token=${token} /></main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
