/** The Run page: the funnel of every stage output found, as the chart `refinery stats --svg` draws and as a table. */
import { funnelOf } from '../../inspect/funnel.js';
import { funnelSvg } from '../../inspect/funnel-svg.js';
import { Safe, bytesCell, countCell, href, html, page } from '../html.js';
import type { ViewSite } from '../outputs.js';

export function runPage(site: ViewSite): string {
  if (site.outputs.length === 0) return page({ title: 'Run' }, html`<p>No stage output (a folder with a _manifest.json) under ${site.roots.join(', ')}.</p>`);
  const funnel = funnelOf(site.outputs.map((o) => o.dir));
  const rows = funnel.map((f, i) => {
    const o = site.outputs[i];
    const stageRow = html`<tr class="stage" data-slug="${o.slug}"><td><a href="${href('/stage', { out: o.slug })}">${f.stage}</a></td><td>${o.slug}</td>
<td class="n" data-col="docs_in">${countCell(f.docs_in)}</td><td class="n" data-col="docs_kept">${countCell(f.docs_kept)}</td><td class="n" data-col="docs_excluded">${countCell(f.docs_excluded)}</td>
<td class="n" data-col="bytes_in">${bytesCell(f.bytes_in)}</td><td class="n" data-col="bytes_kept">${bytesCell(f.bytes_kept)}</td><td class="n" data-col="bytes_excluded">${bytesCell(f.bytes_excluded)}</td>
<td>${f.accounting === 'ok' ? '' : html`<span class="bad">accounting broken: ${(f.accounting as string[]).join('; ')}</span>`}</td></tr>`;
    const stepRows = f.steps.map((s) => {
      const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]);
      return html`<tr class="step" data-slug="${o.slug}" data-step="${s.name}"><td></td><td>↳ ${s.name} <span class="muted">${s.kind}</span></td>
<td class="n" data-col="in">${countCell(s.in)}</td><td class="n" data-col="out">${countCell(s.out)}</td><td class="n" data-col="dropped">${countCell(s.dropped)}</td>
<td></td><td></td><td class="n" data-col="bytes_dropped">${bytesCell(s.bytes_dropped)}</td>
<td>${reasons.map(([r, n], k) => html`${k ? ', ' : ''}<a href="${href('/stage', { out: o.slug, part: 'excluded', where: [`excluded_by = ${s.name}`, `reason = ${r}`] })}">${r}</a> ${countCell(n)}`)}</td></tr>`;
    });
    return html`${stageRow}${stepRows}`;
  });
  return page(
    { title: 'Run' },
    html`<h1>Run</h1><p class="muted">${site.outputs.length} stage outputs under ${site.roots.join(', ')}, parents before the outputs that read them.</p>
${new Safe(funnelSvg(funnel))}
<table id="funnel"><thead><tr><th>stage</th><th>output / step</th><th class="n">docs in</th><th class="n">kept (out)</th><th class="n">excluded</th><th class="n">bytes in</th><th class="n">bytes kept</th><th class="n">bytes excluded</th><th>reasons</th></tr></thead>
<tbody>${rows}</tbody></table>`,
  );
}
