// The overview: per flow, the last minute's rate, error ratio and p95, the queue, and a chart of the last hour.
import { call } from './api.js';
import { Chart } from './chart.js';
import { ms, percent, rate } from './format.js';
import { html } from './html.js';
import { usePoll } from './poll.js';

const REFRESH_MS = 5000;

function Figure({ name, label, value, title }) {
  return html`<div class="figure" data-figure=${name} title=${title ?? ''}><span class="value">${value}</span><span class="label">${label}</span></div>`;
}

function FlowCard({ token, flow }) {
  const series = usePoll(() => call(token, `/flows/${encodeURIComponent(flow.name)}/series?span=1h&step=1m`), REFRESH_MS, [token, flow.name]);
  const { live, messages } = flow;
  const trigger = flow.trigger.type === 'http' && flow.trigger.path ? `${flow.trigger.method ?? 'POST'} ${flow.trigger.path}` : flow.trigger.type;
  return html`<section class="card" data-flow=${flow.name}>
    <header>
      <h2>${flow.name}</h2>
      <span class="muted">${trigger} → ${flow.steps.map((s) => (s.connector ? `${s.type}(${s.connector})` : s.type)).join(' → ')}</span>
      ${flow.description ? html`<p class="muted">${flow.description}</p>` : null}
    </header>
    <div class="figures">
      <${Figure} name="rate" label="delivered / s (1 min)" value=${rate(live.rate)} />
      <${Figure} name="ok" label="delivered (1 min)" value=${live.ok} />
      <${Figure} name="errorRatio" label="error ratio (1 min)" value=${percent(live.errorRatio)} title=${`${live.retry} retried, ${live.failed} dead-lettered of ${live.ok + live.retry + live.failed}`} />
      <${Figure} name="p95" label="p95 (1 min)" value=${ms(live.p95Ms)} />
      <${Figure} name="queued" label="queued" value=${messages.queued} />
      <${Figure} name="running" label="running" value=${messages.running} />
      <${Figure} name="dead" label="dead letters" value=${messages.dead} />
      <${Figure} name="done" label="done (kept)" value=${messages.done} />
    </div>
    ${series.data ? html`<${Chart} points=${series.data.points} title="last hour, per minute" />` : html`<div class="chart muted">loading chart…</div>`}
  </section>`;
}

export function FlowsPage({ token }) {
  const flows = usePoll(() => call(token, '/flows'), REFRESH_MS, [token]);
  if (flows.error && !flows.data) return html`<p class="error">${flows.error.message}</p>`;
  if (!flows.data) return html`<p class="muted">Loading flows…</p>`;
  return html`<div>
    <h1>Flows</h1>
    <p class="muted">Live figures are this process's; queue and dead letters come from the store. Refreshed every ${REFRESH_MS / 1000} s.</p>
    ${flows.data.flows.length === 0 ? html`<p>No flows are configured.</p>` : null}
    ${flows.data.flows.map((f) => html`<${FlowCard} key=${f.name} token=${token} flow=${f} />`)}
  </div>`;
}
