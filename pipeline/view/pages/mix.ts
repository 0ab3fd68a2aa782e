/**
 * The Mix and training page: realised against target shares of every mix output (the chart
 * `refinery mix --svg` draws), and the loss, validation loss and learning-rate curves of
 * every training run's metrics.jsonl, read again on every load; while a run is still writing
 * its log the page reloads itself.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mixReportFile, type MixReport } from '../../mix/index.js';
import { mixSvg } from '../../mix/report.js';
import { formatBytes } from '../../core/progress.js';
import { lossSvg, readMetrics, type MetricLine } from '../../../trainer/report.js';
import { Safe, count, html, page } from '../html.js';
import type { ViewSite } from '../outputs.js';

/** A log written to in the last minute belongs to a run still going. */
const LIVE_MS = 60_000;
const REFRESH_S = 5;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function mixSection(slug: string, r: MixReport): Safe {
  return html`<section class="mix" data-slug="${slug}"><h2>${slug}</h2>${new Safe(mixSvg(r))}
<table><thead><tr><th>${r.by}</th><th class="n">docs before</th><th class="n">bytes before</th><th class="n">share before</th><th class="n">target</th><th class="n">realised</th><th class="n">docs after</th><th class="n">bytes after</th><th class="n">epochs</th></tr></thead><tbody>
${r.rows.map((x) => html`<tr data-value="${x.value}"><td>${x.value}</td><td class="n">${count(x.docs_before)}</td><td class="n">${formatBytes(x.bytes_before)}</td><td class="n">${pct(x.share_before)}</td><td class="n" data-col="target">${pct(x.target_share)}</td><td class="n" data-col="realised">${pct(x.share_after)}</td><td class="n">${count(x.docs_after)}</td><td class="n">${formatBytes(x.bytes_after)}</td><td class="n">${x.epochs.toFixed(2)}</td></tr>`)}
</tbody></table><p class="muted">shares count ${r.unit}; largest share error ${(100 * r.max_share_error).toFixed(3)} points; seed ${r.seed}</p></section>`;
}

export function mixPage(site: ViewSite): string {
  const mixes = site.outputs.filter((o) => existsSync(mixReportFile(o.dir)));
  const mixSections = mixes.map((o) => mixSection(o.slug, (JSON.parse(readFileSync(mixReportFile(o.dir), 'utf8')) as { report: MixReport }).report));
  let live = false;
  const runSections = site.runs.map((run) => {
    const lines = readMetrics(run.metrics);
    const running = Date.now() - statSync(run.metrics).mtimeMs < LIVE_MS;
    live ||= running;
    const last = lines[lines.length - 1];
    const lr = lines.filter((l) => typeof l.lr === 'number').map((l) => ({ step: l.step, tokens: l.tokens, loss: l.lr as number }));
    return html`<section class="run" data-slug="${run.slug}" data-steps="${lines.length}"><h2>${run.slug}${running ? html` <span class="badge">writing</span>` : ''}</h2>
<p class="muted">${count(lines.length)} logged steps${last ? html`, last step ${count(last.step)}, ${count(last.tokens)} tokens${typeof last.loss === 'number' ? `, loss ${last.loss.toFixed(4)}` : ''}` : ''}</p>
${new Safe(lossSvg(lines, `${run.slug}: loss`))}${lr.length ? new Safe(lossSvg(lr, `${run.slug}: learning rate`, { axis: 'learning rate', train: 'learning rate', val: '' })) : ''}</section>`;
  });
  return page(
    { title: 'Mix and training', refresh: live ? REFRESH_S : undefined },
    html`<h1>Mix</h1>${mixSections.length ? mixSections : html`<p>No mix output here.</p>`}<h1>Training</h1>${runSections.length ? runSections : html`<p>No training run (metrics.jsonl) here.</p>`}`,
  );
}
