/**
 * @module bench/lib/chart
 * A small SVG line chart, written by hand (no dependency): panels stacked over
 * one time axis, each with its own y axis, ticks, labels and polylines, and
 * vertical markers for the phases of a run. Enough for bench/backlog's chart
 * of RSS, rate and file size over time.
 */

export interface Series {
  label: string;
  color: string;
  /** [x, y] points, x in the chart's unit (seconds). */
  points: [number, number][];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
  /** A horizontal line, e.g. a limit. */
  limit?: { y: number; label: string };
}

export interface Marker {
  x: number;
  label: string;
}

const W = 900;
const PANEL_H = 170;
const GAP = 50;
const LEFT = 70;
const RIGHT = 20;
const TOP = 40;

const esc = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A round step for about `n` ticks over [0, max]. */
function niceStep(max: number, n = 4): number {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
}

const num = (x: number): string => (Math.abs(x) >= 1000 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());

export function lineChart(title: string, xLabel: string, panels: Panel[], markers: Marker[] = []): string {
  const xs = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0])));
  const xMax = Math.max(1, ...xs);
  const plotW = W - LEFT - RIGHT;
  const H = TOP + panels.length * (PANEL_H + GAP) + 10;
  const sx = (x: number): number => LEFT + (x / xMax) * plotW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => {
    const top = TOP + i * (PANEL_H + GAP);
    const bottom = top + PANEL_H;
    const ys = p.series.flatMap((s) => s.points.map((q) => q[1]));
    const yTop = Math.max(1e-9, ...ys, p.limit ? p.limit.y * 1.1 : 0);
    const step = niceStep(yTop);
    const yMax = Math.ceil(yTop / step) * step;
    const sy = (y: number): number => bottom - (y / yMax) * PANEL_H;
    out.push(`<text x="${LEFT}" y="${top - 8}" font-size="12" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`);
    for (let y = 0; y <= yMax + step / 2; y += step) {
      out.push(
        `<line x1="${LEFT}" y1="${sy(y).toFixed(1)}" x2="${W - RIGHT}" y2="${sy(y).toFixed(1)}" stroke="#ddd"/>`,
        `<text x="${LEFT - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${num(y)}</text>`,
      );
    }
    const xStep = niceStep(xMax, 8);
    for (let x = 0; x <= xMax + 1e-9; x += xStep) {
      out.push(
        `<line x1="${sx(x).toFixed(1)}" y1="${bottom}" x2="${sx(x).toFixed(1)}" y2="${bottom + 4}" stroke="#333"/>`,
        `<text x="${sx(x).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${num(x)}</text>`,
      );
    }
    out.push(
      `<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${bottom}" stroke="#333"/>`,
      `<line x1="${LEFT}" y1="${bottom}" x2="${W - RIGHT}" y2="${bottom}" stroke="#333"/>`,
    );
    if (i === panels.length - 1) out.push(`<text x="${LEFT + plotW / 2}" y="${bottom + 32}" text-anchor="middle">${esc(xLabel)}</text>`);
    for (const m of markers) {
      out.push(`<line x1="${sx(m.x).toFixed(1)}" y1="${top}" x2="${sx(m.x).toFixed(1)}" y2="${bottom}" stroke="#888" stroke-dasharray="4 3"/>`);
      if (i === 0) out.push(`<text x="${(sx(m.x) + 3).toFixed(1)}" y="${top + 10}" fill="#555">${esc(m.label)}</text>`);
    }
    if (p.limit) {
      out.push(
        `<line x1="${LEFT}" y1="${sy(p.limit.y).toFixed(1)}" x2="${W - RIGHT}" y2="${sy(p.limit.y).toFixed(1)}" stroke="#c00" stroke-dasharray="6 3"/>`,
        `<text x="${W - RIGHT - 4}" y="${(sy(p.limit.y) - 4).toFixed(1)}" text-anchor="end" fill="#c00">${esc(p.limit.label)}</text>`,
      );
    }
    p.series.forEach((s, k) => {
      const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts}"/>`);
      const lx = W - RIGHT - 180;
      const ly = top + 14 + k * 14;
      out.push(
        `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
        `<text x="${lx + 22}" y="${ly}">${esc(s.label)}</text>`,
      );
    });
  });
  out.push('</svg>', '');
  return out.join('\n');
}
