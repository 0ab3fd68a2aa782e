/**
 * The Stage page of one output: per step, the exclusion reasons with counts and sample
 * documents; then the document list (kept or excluded), paged by position, with column
 * filters and a text search within the slice shown.
 */
import { funnelOf } from '../../inspect/funnel.js';
import { CORE_COLUMNS, HTML_COLUMN, type ColumnSpec } from '../../core/schema.js';
import { filterText, matches, parseFilter, reasonName, type Filter } from '../filters.js';
import { Safe, count, countCell, highlight, href, html, page } from '../html.js';
import type { StageOutput } from '../outputs.js';
import { docsAt, indexPart, partDir, scanFrom, type PartIndex, type PartName, type Positioned } from '../shard-index.js';

export interface ListQuery {
  part: PartName;
  where: string[];
  q: string;
  at: number;
  n: number;
}

const SAMPLES = 3;
/** Batches of excluded documents read for samples of each reason (the list below pages through the rest). */
const SAMPLE_BATCHES = 2;
/** Documents a filtered page reads before it stops and offers to go on. */
const SCAN_LIMIT = 100_000;
const PLAIN = new Set([...CORE_COLUMNS.map((c) => c.name), HTML_COLUMN.name, 'excluded_by', 'reason']);

/** Samples of each output's reasons, kept while its excluded part is unchanged (the index is the same object). */
const sampled = new WeakMap<PartIndex, Map<string, Positioned[]>>();

/** Samples per "step / reason", from the first batches of the excluded documents. */
async function reasonSamples(out: StageOutput): Promise<Map<string, Positioned[]>> {
  const samples = new Map<string, Positioned[]>();
  const dir = partDir(out.dir, 'excluded');
  if (!dir) return samples;
  const index = await indexPart(dir);
  const known = sampled.get(index);
  if (known) return known;
  sampled.set(index, samples);
  let batches = 0;
  for await (const rows of scanFrom(index, 0, ['id', 'excluded_by', 'reason'])) {
    for (const r of rows) {
      const key = `${r.doc.excluded_by} / ${reasonName(String(r.doc.reason ?? ''))}`;
      const list = samples.get(key) ?? [];
      if (list.length < SAMPLES) samples.set(key, [...list, r]);
    }
    if (++batches >= SAMPLE_BATCHES) break;
  }
  return samples;
}

function reasonsTable(out: StageOutput, samples: Map<string, Positioned[]>): Safe {
  const [f] = funnelOf([out.dir]);
  const rows = f.steps.flatMap((s) =>
    Object.entries(s.reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]) => {
        const listed = samples.get(`${s.name} / ${reason}`) ?? [];
        return html`<tr><td>${s.name}</td><td><a href="${href('/stage', { out: out.slug, part: 'excluded', where: [`excluded_by = ${s.name}`, `reason = ${reason}`] })}">${reason}</a></td>
<td class="n">${countCell(n)}</td><td class="n">${s.in ? `${((100 * n) / s.in).toFixed(1)}%` : ''}</td>
<td>${listed.map((p) => html`<div><a href="${href('/doc', { out: out.slug, part: 'excluded', at: p.pos })}">${p.doc.id}</a> <span class="muted">${p.doc.reason}</span></div>`)}</td></tr>`;
      }),
  );
  if (rows.length === 0) return html`<p>This stage excluded nothing (${countCell(f.docs_in)} documents in, all kept).</p>`;
  return html`<table id="reasons"><thead><tr><th>step</th><th>reason</th><th class="n">docs</th><th class="n">of step's input</th><th>samples</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Columns worth a list column: short values a stage added (scores, counts, labels). */
function listColumns(columns: readonly ColumnSpec[], part: PartName): string[] {
  const extra = columns.filter((c) => !PLAIN.has(c.name) && !c.name.startsWith('warc_')).map((c) => c.name).slice(0, 8);
  return ['url', 'lang', ...extra, ...(part === 'excluded' ? ['excluded_by', 'reason'] : [])].filter((name) => columns.some((c) => c.name === name));
}

function snippet(text: string, q: string): Safe {
  const at = q ? text.toLowerCase().indexOf(q.toLowerCase()) : 0;
  const from = Math.max(0, at - 60);
  const piece = `${from > 0 ? '…' : ''}${text.slice(from, from + 200)}${text.length > from + 200 ? '…' : ''}`;
  return highlight(piece, q);
}

const shown = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v ?? ''));

export async function stagePage(out: StageOutput, query: ListQuery): Promise<string> {
  const filters: Filter[] = query.where.filter((w) => w.trim()).map(parseFilter);
  const dir = partDir(out.dir, query.part);
  const index = dir ? await indexPart(dir) : null;
  let rows: Positioned[] = [];
  let next: number | null = null;
  let scanned = 0;
  if (index && filters.length === 0) {
    rows = await docsAt(index, query.at, query.n);
    next = query.at + query.n < index.rows ? query.at + query.n : null;
    scanned = rows.length;
  } else if (index) {
    let last = query.at - 1;
    scan: for await (const batch of scanFrom(index, query.at)) {
      for (const r of batch) {
        last = r.pos;
        scanned++;
        if (matches(r.doc, filters)) rows.push(r);
        if (rows.length >= query.n || scanned >= SCAN_LIMIT) break scan;
      }
    }
    next = last + 1 < index.rows ? last + 1 : null;
  }
  // The search narrows the slice read for this page; it does not read further.
  const slice = rows.length;
  if (query.q) rows = rows.filter((r) => String(r.doc.text ?? '').toLowerCase().includes(query.q.toLowerCase()) || String(r.doc.url ?? '').toLowerCase().includes(query.q.toLowerCase()));
  const columns = index ? listColumns(index.columns, query.part) : [];
  const samples = await reasonSamples(out);
  const m = out.manifest;
  const base = { out: out.slug, part: query.part, where: query.where.filter((w) => w.trim()), q: query.q, n: query.n };
  const list = html`<table id="docs"><thead><tr><th class="n">#</th><th>id</th>${columns.map((c) => html`<th>${c}</th>`)}<th class="n">chars</th><th>text</th></tr></thead><tbody>
${rows.map((r) => html`<tr data-id="${r.doc.id}"><td class="n">${r.pos}</td><td><a href="${href('/doc', { out: out.slug, part: query.part, at: r.pos })}">${r.doc.id}</a></td>
${columns.map((c) => html`<td>${shown(r.doc[c])}</td>`)}<td class="n">${count(String(r.doc.text ?? '').length)}</td><td>${snippet(String(r.doc.text ?? ''), query.q)}</td></tr>`)}</tbody></table>`;
  const partLink = (p: PartName) => (p === query.part ? html`<b>${p}</b>` : html`<a href="${href('/stage', { out: out.slug, part: p })}">${p}</a>`);
  return page(
    { title: `${m.stage} · ${out.slug}` },
    html`<h1>${m.stage} <span class="muted">${out.slug}</span></h1>
<p>config ${m.config_hash} · ${m.tasks} tasks · ${countCell(m.totals?.docs_in ?? 0)} documents in, ${countCell(m.totals?.docs_kept ?? 0)} kept, ${countCell(m.totals?.docs_excluded ?? 0)} excluded
${out.parents.length ? html` · reads ${out.parents.map((p) => html`<a href="${href('/stage', { out: p.slug })}">${p.slug}</a> `)}` : ''}
${out.children.length ? html` · read by ${out.children.map((c) => html`<a href="${href('/stage', { out: c.slug })}">${c.slug}</a> `)}` : ''}</p>
<h2>Exclusion reasons</h2>${reasonsTable(out, samples)}
<h2>Documents: ${partLink('kept')} · ${partLink('excluded')}</h2>
<form class="filters" method="get" action="/stage"><input type="hidden" name="out" value="${out.slug}"><input type="hidden" name="part" value="${query.part}">
<label>filters, one per line (<code>lang = pt</code>, <code>quality_hq &gt; 0.8</code>, <code>url ~ wiki</code>)<br><textarea name="where" rows="3" cols="40">${base.where.join('\n')}</textarea></label>
<label>search the shown documents<br><input name="q" value="${query.q}"></label>
<label>per page<br><input name="n" value="${query.n}" size="5"></label><button>show</button></form>
<p class="muted" id="slice">${index ? html`${count(index.rows)} ${query.part} documents; ${filters.length ? `${filters.map(filterText).join(' and ')}: ` : ''}${count(slice)} shown from position ${count(query.at)}${filters.length ? ` (${count(scanned)} read)` : ''}${query.q ? html`, ${count(rows.length)} of them contain “${query.q}”` : ''}` : `no ${query.part} documents`}
${query.at > 0 ? html` · <a href="${href('/stage', { ...base, at: filters.length ? 0 : Math.max(0, query.at - query.n) })}">${filters.length ? 'first' : 'back'}</a>` : ''}${next !== null ? html` · <a id="next" href="${href('/stage', { ...base, at: next })}">next</a>` : ''}</p>
${list}`,
  );
}

