// Connector health: circuit, rate limit, the last minute's calls, and the cache (with a purge).
import { useState } from 'preact/hooks';
import { call } from './api.js';
import { Chart } from './chart.js';
import { Confirm } from './confirm.js';
import { ms, percent, rate, time } from './format.js';
import { html } from './html.js';
import { usePoll } from './poll.js';

const REFRESH_MS = 5000;

function Circuit({ circuit }) {
  if (!circuit) return html`<span class="muted">no breaker</span>`;
  const cls = circuit.state === 'closed' ? 'ok' : circuit.state === 'open' ? 'bad' : 'warn';
  return html`<span class=${`pill ${cls}`} data-testid="circuit">${circuit.state}</span>
    <div class="muted small">${circuit.failures}/${circuit.requests} failed in window${circuit.halfOpenAt ? html`, probes at ${time(Date.parse(circuit.halfOpenAt))}` : null}</div>`;
}

function RateLimit({ limit }) {
  if (!limit) return html`<span class="muted">none</span>`;
  return html`<span data-testid="rate-limit">${limit.tokens}/${limit.burst} tokens, ${limit.perSecond}/s</span>
    ${limit.pausedUntil ? html`<div class="pill warn">paused until ${time(limit.pausedUntil)}</div>` : null}`;
}

function ConnectorCard({ token, c, onPurge }) {
  const series = usePoll(() => call(token, `/connectors/${encodeURIComponent(c.name)}/series?span=1h&step=1m`), REFRESH_MS, [token, c.name]);
  const policies = c.state?.policies ?? {};
  const endpoint = c.state?.endpoint;
  return html`<section class="card" data-connector=${c.name}>
    <header>
      <h2>${c.name}</h2>
      <span class="muted">${c.type} ${c.baseUrl ?? c.url ?? ''}${c.auth ? ` · auth: ${c.auth}` : ''}</span>
    </header>
    <table class="kv">
      <tr><th>circuit</th><td><${Circuit} circuit=${policies.circuit} /></td></tr>
      <tr><th>rate limit</th><td><${RateLimit} limit=${policies.rateLimit} /></td></tr>
      <tr><th>calls (1 min)</th><td data-testid="calls">${c.live.total} calls, ${rate(c.live.rate)} ok, ${percent(c.live.errorRatio)} errors, p95 ${ms(c.live.p95Ms)}</td></tr>
      ${endpoint ? html`<tr><th>endpoint</th><td>${endpoint.disabled ? html`<span class="pill bad">disabled</span>` : html`<span class="pill ok">enabled</span>`}</td></tr>` : null}
      <tr><th>cache</th><td>${
        policies.cache
          ? html`<span>${policies.cache.entries ?? '?'} entries</span> <button data-testid="purge-cache" onClick=${() => onPurge(c.name)}>Purge cache</button>`
          : html`<span class="muted">none</span>`
      }</td></tr>
    </table>
    ${series.data ? html`<${Chart} points=${series.data.points} title="calls, last hour, per minute" />` : null}
  </section>`;
}

export function ConnectorsPage({ token }) {
  const list = usePoll(() => call(token, '/connectors'), REFRESH_MS, [token]);
  const [ask, setAsk] = useState(null);
  const [note, setNote] = useState('');
  const purge = (name) =>
    setAsk({
      text: `Drop every cached answer of ${name}? The next calls go to the system itself.`,
      action: 'Purge cache',
      run: async () => {
        try {
          const r = await call(token, `/connectors/${encodeURIComponent(name)}/cache`, { method: 'DELETE' });
          setNote(`Purged ${r.purged} cached answers of ${name}.`);
          list.reload();
        } catch (e) {
          setNote(e.message);
        }
      },
    });
  if (list.error && !list.data) return html`<p class="error">${list.error.message}</p>`;
  if (!list.data) return html`<p class="muted">Loading connectors…</p>`;
  return html`<div>
    <h1>Connectors</h1>
    ${note ? html`<p class="note" role="status">${note}</p>` : null}
    ${list.data.connectors.map((c) => html`<${ConnectorCard} key=${c.name} token=${token} c=${c} onPurge=${purge} />`)}
    <${Confirm} ask=${ask} onClose=${() => setAsk(null)} />
  </div>`;
}
