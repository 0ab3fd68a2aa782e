import { readFileSync } from 'node:fs';

/** The loss curve of a run as SVG: training loss (per logged step) and validation loss, by step. */
export interface MetricLine {
  step: number;
  tokens: number;
  loss?: number;
  val_loss?: number;
  [key: string]: unknown;
}

/** metrics.jsonl's complete lines (a line still being written is left out: a reader may come while train writes). */
export function readMetrics(file: string): MetricLine[] {
  const lines: MetricLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const m = JSON.parse(line) as MetricLine;
      if (typeof m.step === 'number') lines.push(m);
    } catch {
      // blank or partly written
    }
  }
  return lines;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Names on the chart; another curve of the log (the learning rate) is drawn by passing it as `loss`. */
export interface CurveLabels {
  axis: string;
  train: string;
  val: string;
}

const LOSS_LABELS: CurveLabels = { axis: 'loss (nats/token)', train: 'training loss', val: 'validation loss' };

export function lossSvg(lines: readonly MetricLine[], title: string, labels: CurveLabels = LOSS_LABELS): string {
  const width = 800;
  const height = 420;
  const left = 60;
  const right = 20;
  const top = 40;
  const bottom = 50;
  const train = lines.filter((l) => typeof l.loss === 'number') as (MetricLine & { loss: number })[];
  const val = lines.filter((l) => typeof l.val_loss === 'number') as (MetricLine & { val_loss: number })[];
  const all = [...train.map((l) => l.loss), ...val.map((l) => l.val_loss)];
  const maxStep = Math.max(1, ...lines.map((l) => l.step));
  const lo = Math.min(...all, Number.POSITIVE_INFINITY);
  const hi = Math.max(...all, Number.NEGATIVE_INFINITY);
  const span = hi > lo ? hi - lo : 1;
  const x = (s: number) => left + (s / maxStep) * (width - left - right);
  const y = (v: number) => top + (1 - (v - lo) / span) * (height - top - bottom);
  const path = (pts: [number, number][]) => pts.map(([a, b], i) => `${i ? 'L' : 'M'}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#444"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#444"/>`,
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">step</text>`,
    `<text x="14" y="${height / 2}" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${esc(labels.axis)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = lo + (span * i) / 4;
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${span < 0.1 ? v.toPrecision(2) : v.toFixed(2)}</text>`);
    const s = Math.round((maxStep * i) / 4);
    parts.push(`<text x="${x(s)}" y="${height - bottom + 16}" text-anchor="middle">${s}</text>`);
  }
  if (train.length) parts.push(`<path d="${path(train.map((l) => [l.step, l.loss]))}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  if (val.length) parts.push(`<path d="${path(val.map((l) => [l.step, l.val_loss]))}" fill="none" stroke="#d62728" stroke-width="2"/>`);
  for (const l of val) parts.push(`<circle cx="${x(l.step).toFixed(1)}" cy="${y(l.val_loss).toFixed(1)}" r="3" fill="#d62728"/>`);
  if (train.length) parts.push(`<text x="${width - right - 150}" y="${top + 10}" fill="#1f77b4">${esc(labels.train)}</text>`);
  if (val.length) parts.push(`<text x="${width - right - 150}" y="${top + 26}" fill="#d62728">${esc(labels.val)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
