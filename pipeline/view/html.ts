/**
 * HTML building blocks of the viewer's pages. Every value that comes from a shard or a file
 * goes through `esc` (or `html` tagged templates, which escape what they interpolate), so a
 * page of the web is shown as text, never run: pages from the web are hostile.
 */
import { formatBytes } from '../core/progress.js';

export const esc = (s: unknown): string =>
  String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Markup already built (not escaped again when interpolated). */
export class Safe {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** What a template takes: `false`, null and undefined render nothing (so `cond && html`...`` works). */
type Part = Safe | string | number | boolean | null | undefined | readonly Part[];

const render = (v: Part): string => {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Safe) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  return esc(v);
};

/** A template whose interpolations are escaped unless they are `Safe` (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Safe {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Safe(out);
}

/** A URL of this site: path and query, values encoded. */
export function href(path: string, query: Record<string, string | number | boolean | readonly string[] | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === false || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const count = (n: number): string => n.toLocaleString('en');

/** A byte count for people, with the exact number kept for machines (and tests). */
export const bytesCell = (n: number) => html`<span data-value="${n}" title="${count(n)} bytes">${formatBytes(n)}</span>`;
export const countCell = (n: number) => html`<span data-value="${n}">${count(n)}</span>`;

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#24313d;color:#fff;padding:8px 16px;display:flex;gap:18px;align-items:baseline}
header a{color:#cfe3ff;text-decoration:none}header b{font-size:16px}
main{padding:12px 16px;max-width:1500px}
table{border-collapse:collapse;margin:8px 0;background:#fff}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.step td{background:#f6f8fa}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #ddd;padding:8px;max-height:480px;overflow:auto;margin:4px 0}
del{background:#ffd7d5;text-decoration:line-through}ins{background:#ccf0d2;text-decoration:none}
.muted{color:#777}.bad{color:#b00020}.kept{border:2px solid #2ca02c}.badge{background:#2ca02c;color:#fff;padding:0 6px;border-radius:3px}
.cols{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:10px}
.card{background:#fff;border:1px solid #ddd;padding:8px}
form.filters{background:#fff;border:1px solid #ddd;padding:8px;display:flex;gap:8px;flex-wrap:wrap;align-items:end}
mark{background:#fff2a8}
`;

export interface PageOptions {
  title: string;
  /** Seconds after which the browser reloads the page (a log still being written). */
  refresh?: number;
}

export function page(o: PageOptions, body: Safe): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)} · refinery view</title>
${o.refresh ? `<meta http-equiv="refresh" content="${o.refresh}">` : ''}<style>${CSS}</style></head>
<body><header><b>refinery view</b><a href="/">Run</a><a href="/clusters">Clusters</a><a href="/mix">Mix and training</a></header>
<main>${body.html}</main></body></html>
`;
}

/** Marks every occurrence of `term` in `text` (both shown escaped). */
export function highlight(text: string, term: string): Safe {
  if (!term) return new Safe(esc(text));
  const lower = text.toLowerCase();
  const t = term.toLowerCase();
  let out = '';
  let at = 0;
  for (let i = lower.indexOf(t); i >= 0; i = lower.indexOf(t, at)) {
    out += `${esc(text.slice(at, i))}<mark>${esc(text.slice(i, i + t.length))}</mark>`;
    at = i + t.length;
  }
  return new Safe(out + esc(text.slice(at)));
}
