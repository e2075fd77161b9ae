// The dead-letter browser: filter by flow, code and time; page through; open one; replay or purge with a confirmation.
import { useState } from 'preact/hooks';
import { call, query } from './api.js';
import { Confirm } from './confirm.js';
import { DeadLetterView } from './dead-letter.js';
import { time } from './format.js';
import { html } from './html.js';
import { usePoll } from './poll.js';

const PAGE = 20;
const EMPTY = { flow: '', code: '', since: '', until: '' };

/** A datetime-local value (the browser's local time) as ISO 8601 with a zone, for the API. */
function iso(local) {
  return local ? new Date(local).toISOString() : undefined;
}

/** The filter as the API takes it: in a query string, or as a replay's or purge's `filter`. */
function apiFilter(f) {
  const out = {};
  if (f.flow) out.flow = f.flow;
  if (f.code) out.code = f.code.trim();
  if (f.since) out.since = iso(f.since);
  if (f.until) out.until = iso(f.until);
  return out;
}

function describe(f) {
  const parts = [];
  if (f.flow) parts.push(`flow ${f.flow}`);
  if (f.code) parts.push(`code ${f.code}`);
  if (f.since) parts.push(`since ${f.since.replace('T', ' ')}`);
  if (f.until) parts.push(`before ${f.until.replace('T', ' ')}`);
  return parts.length ? parts.join(', ') : 'no filter';
}

function Filters({ flows, value, onApply }) {
  const [draft, setDraft] = useState(value);
  const set = (k) => (e) => setDraft({ ...draft, [k]: e.currentTarget.value });
  return html`<form class="filters" onSubmit=${(e) => {
    e.preventDefault();
    onApply(draft);
  }}>
    <label>Flow <select name="flow" value=${draft.flow} onChange=${set('flow')}>
      <option value="">any</option>
      ${flows.map((f) => html`<option value=${f}>${f}</option>`)}
    </select></label>
    <label>Code <input name="code" placeholder="JNC_HTTP_REJECTED" value=${draft.code} onInput=${set('code')} /></label>
    <label>Since <input name="since" type="datetime-local" step="1" value=${draft.since} onInput=${set('since')} /></label>
    <label>Until <input name="until" type="datetime-local" step="1" value=${draft.until} onInput=${set('until')} /></label>
    <button type="submit" class="primary">Apply</button>
    <button type="button" onClick=${() => {
      setDraft(EMPTY);
      onApply(EMPTY);
    }}>Clear</button>
  </form>`;
}

export function DeadLettersPage({ token }) {
  const [filter, setFilter] = useState(EMPTY);
  // Cursors of the pages before this one, so that "newer" goes back; the API pages by the last id.
  const [cursors, setCursors] = useState([]);
  const [selected, setSelected] = useState(new Set());
  const [open, setOpen] = useState(null);
  const [ask, setAsk] = useState(null);
  const [note, setNote] = useState('');
  const before = cursors.at(-1);
  const flows = usePoll(() => call(token, '/flows'), 0, [token]);
  const page = usePoll(() => call(token, `/dead-letters${query({ ...apiFilter(filter), limit: PAGE, before })}`), 0, [token, filter, before]);

  const restart = () => {
    setSelected(new Set());
    setCursors([]);
    page.reload();
  };
  const act = (verb, selector, text) =>
    setAsk({
      text,
      action: verb === 'replay' ? 'Replay' : 'Purge',
      run: async () => {
        try {
          const r = await call(token, `/dead-letters/${verb}`, { method: 'POST', body: selector });
          setNote(verb === 'replay' ? `Replayed ${r.replayed.length} dead letter${r.replayed.length === 1 ? '' : 's'}; they are back in the queue.` : `Purged ${r.purged} dead letter${r.purged === 1 ? '' : 's'}.`);
          setOpen(null);
          restart();
        } catch (e) {
          setNote(e.message);
        }
      },
    });

  const rows = page.data?.deadLetters ?? [];
  const total = page.data?.total ?? 0;
  const toggle = (id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  return html`<div class="with-panel">
    <div>
      <h1>Dead letters</h1>
      <${Filters} flows=${(flows.data?.flows ?? []).map((f) => f.name)} value=${filter} onApply=${(f) => {
        setFilter(f);
        setCursors([]);
        setSelected(new Set());
      }} />
      ${note ? html`<p class="note" role="status">${note}</p>` : null}
      ${page.error
        ? page.error.code === 'JNC_DEAD_LETTER_UNKNOWN' && cursors.length > 0
          ? html`<p class="error">This page began after a dead letter that has since been replayed or purged. <button class="link" onClick=${restart}>Back to the first page</button></p>`
          : html`<p class="error">${page.error.message}</p>`
        : null}
      <div class="toolbar">
        <span data-testid="total">${total} matching (${describe(filter)})</span>
        <button disabled=${selected.size === 0} data-testid="replay-selected" onClick=${() => act('replay', { ids: [...selected] }, `Replay the ${selected.size} selected dead letter${selected.size === 1 ? '' : 's'}? They go back to the queue with their idempotency keys.`)}>Replay selected (${selected.size})</button>
        <button disabled=${total === 0} data-testid="replay-matching" onClick=${() => act('replay', { filter: apiFilter(filter) }, `Replay all ${total} dead letters matching ${describe(filter)}?`)}>Replay all matching (${total})</button>
        <button class="danger" disabled=${selected.size === 0} data-testid="purge-selected" onClick=${() => act('purge', { ids: [...selected] }, `Delete the ${selected.size} selected dead letter${selected.size === 1 ? '' : 's'} for good?`)}>Purge selected</button>
        <button class="danger" disabled=${total === 0} data-testid="purge-matching" onClick=${() => act('purge', { filter: apiFilter(filter) }, `Delete all ${total} dead letters matching ${describe(filter)} for good?`)}>Purge all matching</button>
      </div>
      <table class="list" data-testid="dead-letters">
        <thead><tr><th></th><th>dead since</th><th>flow</th><th>code</th><th>error</th><th>attempts</th><th>id</th></tr></thead>
        <tbody>
          ${rows.map(
            (d) => html`<tr key=${d.id} data-id=${d.id} class=${open === d.id ? 'open' : ''}>
              <td><input type="checkbox" aria-label=${`select ${d.id}`} checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>
              <td>${time(d.deadAt)}</td><td>${d.flow}</td><td><code>${d.errorCode}</code></td><td class="error-text">${d.error}</td><td>${d.attempts}</td>
              <td><button class="link" data-testid="open" onClick=${() => setOpen(d.id)}>${d.id.slice(0, 8)}…</button></td>
            </tr>`,
          )}
          ${page.data && rows.length === 0 ? html`<tr><td colspan="7" class="muted">No dead letters match.</td></tr>` : null}
        </tbody>
      </table>
      <div class="pager">
        <button disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>← Newer</button>
        <span>page ${cursors.length + 1}</span>
        <button disabled=${!page.data?.next} data-testid="older" onClick=${() => setCursors([...cursors, page.data.next])}>Older →</button>
      </div>
    </div>
    ${open
      ? html`<${DeadLetterView} token=${token} id=${open} onClose=${() => setOpen(null)}
          onReplay=${(id) => act('replay', { ids: [id] }, `Replay dead letter ${id}? It goes back to the queue with its idempotency key.`)} />`
      : null}
    <${Confirm} ask=${ask} onClose=${() => setAsk(null)} />
  </div>`;
}
