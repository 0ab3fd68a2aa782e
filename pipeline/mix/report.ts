/** The mix's before/after table per value, and the same as an SVG chart of shares. */
import { formatBytes, formatCount } from '../core/progress.js';
import type { MixReport } from './index.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export function mixTable(r: MixReport): string {
  const head = [r.by, 'docs', 'bytes', 'share', 'target', 'epochs', 'docs after', 'bytes after', 'share after'];
  const rows = r.rows.map((x) => [x.value, formatCount(x.docs_before), formatBytes(x.bytes_before), pct(x.share_before), pct(x.target_share), x.epochs.toFixed(2), formatCount(x.docs_after), formatBytes(x.bytes_after), pct(x.share_after)]);
  const sum = (f: (x: MixReport['rows'][number]) => number) => r.rows.reduce((n, x) => n + f(x), 0);
  rows.push(['total', formatCount(sum((x) => x.docs_before)), formatBytes(sum((x) => x.bytes_before)), '100%', '100%', '', formatCount(sum((x) => x.docs_after)), formatBytes(sum((x) => x.bytes_after)), '100%']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const unit = { bytes: 'bytes of text', docs: 'documents', tokens: 'tokens' }[r.unit];
  return [
    line(head),
    ...rows.map(line),
    `shares and epochs count ${unit}; seed ${r.seed}; largest share error ${(100 * r.max_share_error).toFixed(3)} points`,
  ].join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Per value: its natural share (grey), target (outline) and share after mixing (blue). */
export function mixSvg(r: MixReport, title = `mix by ${r.by} (${r.unit})`): string {
  const width = 900;
  const label = 160;
  const area = width - label - 90;
  const row = 34;
  const top = 60;
  const height = top + r.rows.length * row + 40;
  const max = Math.max(0.01, ...r.rows.flatMap((x) => [x.share_before, x.share_after, x.target_share]));
  const w = (share: number) => ((share / max) * area).toFixed(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`,
    `<rect x="${label}" y="36" width="12" height="10" fill="#bbbbbb"/><text x="${label + 16}" y="45">before</text>`,
    `<rect x="${label + 80}" y="36" width="12" height="10" fill="#1f77b4"/><text x="${label + 96}" y="45">after</text>`,
    `<rect x="${label + 150}" y="36" width="12" height="10" fill="none" stroke="#d62728"/><text x="${label + 166}" y="45">target</text>`,
  ];
  r.rows.forEach((x, i) => {
    const y = top + i * row;
    parts.push(`<text x="${label - 8}" y="${y + 16}" text-anchor="end">${esc(x.value)}</text>`);
    parts.push(`<rect x="${label}" y="${y}" width="${w(x.share_before)}" height="10" fill="#bbbbbb"><title>${esc(`${x.value}: ${pct(x.share_before)} before`)}</title></rect>`);
    parts.push(`<rect x="${label}" y="${y + 12}" width="${w(x.share_after)}" height="12" fill="#1f77b4"><title>${esc(`${x.value}: ${pct(x.share_after)} after, ${x.epochs.toFixed(2)} epochs`)}</title></rect>`);
    parts.push(`<rect x="${label}" y="${y + 11}" width="${w(x.target_share)}" height="14" fill="none" stroke="#d62728"/>`);
    parts.push(`<text x="${label + Number(w(Math.max(x.share_after, x.target_share))) + 6}" y="${y + 22}">${pct(x.share_after)} (${x.epochs.toFixed(2)}×)</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
