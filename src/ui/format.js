// How figures read on the page.

export function rate(perSecond) {
  if (perSecond === 0) return '0/s';
  return perSecond >= 10 ? `${perSecond.toFixed(0)}/s` : `${perSecond.toFixed(2)}/s`;
}

export function percent(ratio) {
  return `${(ratio * 100).toFixed(ratio === 0 || ratio === 1 ? 0 : 1)}%`;
}

export function ms(value) {
  if (value === undefined || value === null) return '–';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function time(epochMs) {
  if (epochMs === undefined || epochMs === null) return '–';
  return new Date(epochMs).toLocaleString(undefined, { hour12: false });
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}
