// A uPlot chart of a flow's or connector's last hour: successes and errors per step, and p95.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

function data(points) {
  return [points.map((p) => p.at / 1000), points.map((p) => p.ok), points.map((p) => p.errors), points.map((p) => p.p95Ms ?? null)];
}

/** `points` from GET /admin/{flows|connectors}/:name/series. */
export function Chart({ points, title }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    if (!box.current || !points) return undefined;
    if (!plot.current) {
      plot.current = new uPlot(
        {
          title,
          width: Math.max(320, box.current.clientWidth || 480),
          height: 160,
          scales: { x: { time: true }, n: { auto: true }, ms: { auto: true } },
          series: [
            {},
            { label: 'ok', scale: 'n', stroke: '#2f855a', fill: 'rgba(47,133,90,0.12)', width: 1.5 },
            { label: 'errors', scale: 'n', stroke: '#c53030', width: 1.5 },
            { label: 'p95 ms', scale: 'ms', stroke: '#6b46c1', dash: [4, 3], width: 1 },
          ],
          axes: [{}, { scale: 'n', size: 50, label: 'per minute' }, { scale: 'ms', side: 1, size: 60, label: 'p95 ms', grid: { show: false } }],
        },
        data(points),
        box.current,
      );
    } else {
      plot.current.setData(data(points));
    }
    return undefined;
  }, [points]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div class="chart" ref=${box}></div>`;
}
