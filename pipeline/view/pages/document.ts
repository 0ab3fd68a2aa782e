/**
 * The Document page: one document at every stage output of its lineage that holds it (the
 * outputs its output read, and those that read it), its text with what each stage changed
 * marked, its metadata, and where it left the pipeline and why. Raw HTML is shown as text.
 */
import type { Doc } from '../../core/schema.js';
import { diffHtml } from '../diff.js';
import { Safe, count, href, html, page } from '../html.js';
import type { StageOutput, ViewSite } from '../outputs.js';
import { docsAt, indexPart, partDir, positionOf, type PartName } from '../shard-index.js';

export interface Found {
  out: StageOutput;
  part: PartName;
  pos: number;
  doc: Doc;
}

/** Characters of text or HTML shown (and compared) per stage. */
const SHOWN_CHARS = 200_000;
const LONG = new Set(['text', 'html']);

export async function docAt(out: StageOutput, part: PartName, pos: number): Promise<Found | null> {
  const dir = partDir(out.dir, part);
  if (!dir) return null;
  const [hit] = await docsAt(await indexPart(dir), pos, 1);
  return hit ? { out, part, pos: hit.pos, doc: hit.doc } : null;
}

/** Where output `out` holds document `id`: kept first, then excluded. */
export async function findIn(out: StageOutput, id: string): Promise<Found | null> {
  for (const part of ['kept', 'excluded'] as const) {
    const dir = partDir(out.dir, part);
    if (!dir) continue;
    const pos = await positionOf(await indexPart(dir), id);
    if (pos !== null) return docAt(out, part, pos);
  }
  return null;
}

/** The outputs a document can have passed on its way to or from `out`, in pipeline order. */
function lineage(site: ViewSite, out: StageOutput): StageOutput[] {
  const seen = new Set<StageOutput>([out]);
  const walk = (o: StageOutput, next: (o: StageOutput) => StageOutput[]) => {
    for (const n of next(o)) {
      if (seen.has(n)) continue;
      seen.add(n);
      walk(n, next);
    }
  };
  walk(out, (o) => o.parents);
  walk(out, (o) => o.children);
  return site.outputs.filter((o) => seen.has(o));
}

const clip = (s: string) => (s.length > SHOWN_CHARS ? s.slice(0, SHOWN_CHARS) : s);
const shown = (key: string, v: unknown) => (key === 'fetched_at' && typeof v === 'number' ? new Date(v).toISOString() : String(v));

function stageSection(f: Found, before: Found | undefined): Safe {
  const doc = f.doc;
  const prev = before?.doc;
  const meta = Object.entries(doc).filter(([k, v]) => !LONG.has(k) && v !== null && v !== undefined);
  const changed = (k: string) => prev !== undefined && prev[k] !== doc[k];
  const text = typeof doc.text === 'string' ? doc.text : null;
  const prevText = typeof prev?.text === 'string' ? prev.text : null;
  let textBlock: Safe = html``;
  if (text !== null && prevText !== null && prevText !== text) {
    const d = diffHtml(clip(prevText), clip(text));
    textBlock = html`<p class="muted">text changed: ${count(d.removed)} lines removed or changed, ${count(d.added)} added (${count(prevText.length)} → ${count(text.length)} chars)</p><pre class="text">${d.html}</pre>`;
  } else if (text !== null) {
    textBlock = html`<p class="muted">${count(text.length)} chars${prevText === null && prev ? ' of text, extracted from the HTML above' : ''}${prevText === text ? ', text unchanged' : ''}</p><pre class="text">${clip(text)}</pre>`;
  }
  const htmlBlock = typeof doc.html === 'string'
    ? html`<details${text === null ? ' open' : ''}><summary>raw HTML, shown as text (${count(doc.html.length)} chars)</summary><pre class="html">${clip(doc.html)}</pre></details>`
    : '';
  const status = f.part === 'kept'
    ? html`<span class="badge">kept</span>`
    : html`<span class="bad">excluded by <b>${doc.excluded_by}</b>: ${doc.reason}</span>`;
  return html`<section class="stage" data-slug="${f.out.slug}" data-part="${f.part}"><h2>${f.out.manifest.stage} <span class="muted"><a href="${href('/stage', { out: f.out.slug, part: f.part })}">${f.out.slug}</a> #${f.pos}</span> ${status}</h2>
${textBlock}${htmlBlock}
<details><summary>metadata${prev ? ' (changed values in bold)' : ''}</summary><table>${meta.map(([k, v]) => html`<tr><td>${k}</td><td>${changed(k) ? html`<b>${shown(k, v)}</b>` : shown(k, v)}</td></tr>`)}</table></details></section>`;
}

export async function documentPage(site: ViewSite, start: Found): Promise<string> {
  const id = String(start.doc.id);
  const found: Found[] = [];
  for (const o of lineage(site, start.out)) {
    const hit = o === start.out ? start : await findIn(o, id);
    if (hit) found.push(hit);
  }
  // Outputs branch (a top-quality cut, a train/validation split beside the main line): the
  // document left the pipeline where it was excluded with no later output keeping it; an
  // exclusion followed by a kept copy further on was a branch it was not selected into.
  const lastKept = found.map((f) => f.part).lastIndexOf('kept');
  const left = found.find((f, i) => f.part === 'excluded' && i > lastKept);
  const branches = found.filter((f, i) => f.part === 'excluded' && i < lastKept);
  const summary = html`${left
    ? html`<p class="bad" id="left">Left the pipeline at <b>${left.out.manifest.stage}</b> (${left.out.slug}), excluded by ${left.doc.excluded_by}: ${left.doc.reason}</p>`
    : html`<p id="left">Kept by every stage output that holds it${branches.length ? ' on its way' : ''}.</p>`}
${branches.length ? html`<p class="muted" id="branches">Not selected by ${branches.map((b, i) => html`${i ? '; ' : ''}${b.out.slug} (${b.doc.excluded_by}: ${b.doc.reason})`)}</p>` : ''}`;
  const sections = found.map((f, i) => stageSection(f, found[i - 1]));
  // Only web addresses are links: a javascript: URL from a crawled page stays text.
  const url = String(start.doc.url ?? '');
  return page(
    { title: id },
    html`<h1>${id}</h1><p>${/^https?:\/\//i.test(url) ? html`<a href="${url}" rel="noreferrer nofollow">${url}</a>` : url}</p>${summary}
<p class="muted">passed ${found.map((f, i) => html`${i ? ' → ' : ''}${f.out.slug}${f.part === 'excluded' ? ' (excluded)' : ''}`)}</p>${sections}`,
  );
}
