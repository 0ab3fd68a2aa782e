/**
 * The funnel as an SVG chart: one bar per stage, its length the documents that entered,
 * split into kept (green) and excluded by each filter (one colour per filter).
 */
import { formatCount } from '../core/progress.js';
import type { FunnelStage } from './funnel.js';

const PALETTE = ['#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#1f77b4'];
const KEPT = '#2ca02c';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function funnelSvg(funnel: readonly FunnelStage[], title = 'refinery funnel (documents)'): string {
  const width = 900;
  const labelWidth = 150;
  const barArea = width - labelWidth - 20;
  const barHeight = 26;
  const rowGap = 18;
  const maxIn = Math.max(1, ...funnel.map((f) => f.docs_in));
  const filterNames = [...new Set(funnel.flatMap((f) => f.steps.filter((s) => s.dropped > 0).map((s) => s.name)))];
  const colour = (name: string) => PALETTE[filterNames.indexOf(name) % PALETTE.length];
  const top = 50;
  const height = top + funnel.length * (barHeight + rowGap) + 30 + Math.ceil((filterNames.length + 1) / 4) * 20;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`,
  ];
  funnel.forEach((f, i) => {
    const y = top + i * (barHeight + rowGap);
    parts.push(`<text x="${labelWidth - 8}" y="${y + barHeight / 2 + 4}" text-anchor="end">${esc(f.stage)}</text>`);
    let x = labelWidth;
    const seg = (n: number, fill: string, tip: string) => {
      const w = (n / maxIn) * barArea;
      if (w <= 0) return;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${fill}"><title>${esc(tip)}</title></rect>`);
      x += w;
    };
    seg(f.docs_kept, KEPT, `${f.stage}: kept ${formatCount(f.docs_kept)}`);
    for (const s of f.steps) if (s.dropped > 0) seg(s.dropped, colour(s.name), `${f.stage}: ${s.name} excluded ${formatCount(s.dropped)}`);
    const label = `${formatCount(f.docs_kept)} / ${formatCount(f.docs_in)} kept`;
    parts.push(`<text x="${labelWidth + 4}" y="${y + barHeight + 13}" fill="#333">${esc(label)}</text>`);
  });
  const legendY = top + funnel.length * (barHeight + rowGap) + 10;
  ['kept', ...filterNames].forEach((name, i) => {
    const lx = labelWidth + (i % 4) * 170;
    const ly = legendY + Math.floor(i / 4) * 20;
    parts.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${name === 'kept' ? KEPT : colour(name)}"/>`);
    parts.push(`<text x="${lx + 18}" y="${ly + 10}">${esc(name === 'kept' ? 'kept' : `excluded: ${name}`)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
