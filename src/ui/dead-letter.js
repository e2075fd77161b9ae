// One dead letter in full: why it failed, the last response, every attempt, and the payload.
import { call } from './api.js';
import { json, ms, time } from './format.js';
import { html } from './html.js';
import { usePoll } from './poll.js';

function Response({ response }) {
  if (!response) return html`<p class="muted">No response: the last attempt got none (a timeout, a network error) or failed before sending.</p>`;
  return html`<div data-testid="last-response">
    <p><strong>HTTP ${response.status}</strong></p>
    <pre class="small">${Object.entries(response.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
    <pre data-testid="last-response-body">${response.bodyExcerpt}</pre>
  </div>`;
}

/** `onReplay(id)` asks for a confirmation and replays it. */
export function DeadLetterView({ token, id, onClose, onReplay }) {
  const dl = usePoll(() => call(token, `/dead-letters/${encodeURIComponent(id)}`), 0, [token, id]);
  return html`<aside class="panel" data-testid="dead-letter" aria-label="Dead letter">
    <header>
      <h2>Dead letter</h2>
      <button onClick=${onClose} aria-label="Close">✕</button>
    </header>
    ${dl.error ? html`<p class="error">${dl.error.message}</p>` : null}
    ${!dl.data
      ? html`<p class="muted">Loading…</p>`
      : html`<div>
          <table class="kv">
            <tr><th>id</th><td><code>${dl.data.id}</code></td></tr>
            <tr><th>flow</th><td>${dl.data.flow}</td></tr>
            <tr><th title="its dedupe key, else its id; a deliver template may have sent another">message key</th><td><code>${dl.data.idempotencyKey}</code></td></tr>
            <tr><th>created</th><td>${time(dl.data.createdAt)}</td></tr>
            <tr><th>dead since</th><td>${time(dl.data.deadAt)}</td></tr>
            <tr><th>attempts</th><td>${dl.data.attempts} (replayed ${dl.data.replays}×)</td></tr>
            <tr><th>error</th><td><code>${dl.data.errorCode}</code> ${dl.data.error}</td></tr>
          </table>
          ${dl.data.reason?.length > 1 ? html`<ol class="small">${dl.data.reason.map((r) => html`<li>${r}</li>`)}</ol>` : null}
          <p><button class="primary" data-testid="replay-one" onClick=${() => onReplay(dl.data.id)}>Replay this message</button></p>
          <h3>Last response</h3>
          <${Response} response=${dl.data.lastResponse} />
          <h3>Attempts</h3>
          <table class="list" data-testid="history">
            <thead><tr><th>#</th><th>started</th><th>took</th><th>outcome</th><th>key sent</th><th>error</th><th>status</th></tr></thead>
            <tbody>
              ${dl.data.history.map(
                (h) => html`<tr>
                  <td>${h.attempt}</td><td>${time(h.startedAt)}</td><td>${ms(h.durationMs)}</td><td>${h.outcome}</td>
                  <td>${h.idempotencyKey === undefined ? html`<span class="muted">none</span>` : html`<code>${h.idempotencyKey}</code>`}</td>
                  <td>${h.errorCode ? html`<code>${h.errorCode}</code> ${h.error}` : ''}</td><td>${h.response?.status ?? ''}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <h3>Payload</h3>
          <pre data-testid="payload">${json(dl.data.body)}</pre>
        </div>`}
  </aside>`;
}
