/** What `refinery inspect` prints: a shard summary, documents, dedup clusters, as text. */
import { formatBytes, formatCount } from '../core/progress.js';
import type { Doc } from '../core/schema.js';
import type { InspectReport } from './inspect.js';

/** Files, rows, bytes and where the shards came from; then one line per column with a summary of its values. */
export function formatReport(report: InspectReport): string {
  const meta = report.metadata;
  const about = [
    meta['refinery.schema_version'] && `schema v${meta['refinery.schema_version']}`,
    meta['refinery.stage'] && `stage ${meta['refinery.stage']}`,
    meta['refinery.config_hash'] && `config ${meta['refinery.config_hash']}`,
  ].filter(Boolean);
  const lines = [
    `${report.path}: ${report.files.length} file${report.files.length === 1 ? '' : 's'}, ${formatCount(report.rows)} rows, ${formatBytes(report.bytes)}` +
      (about.length ? ` (${about.join(', ')})` : ''),
  ];
  const rows = [['column', 'type', 'nulls', 'summary']];
  for (const c of report.columns) {
    let summary = '';
    if (c.top && (c.distinct ?? 0) <= 20) summary = `${c.distinct} distinct: ${c.top.map(([v, n]) => `${JSON.stringify(v)} ${formatCount(n)}`).join(', ')}`;
    else if (c.mean !== undefined && c.type === 'string') summary = `length ${formatCount(c.min ?? 0)}..${formatCount(c.max ?? 0)}, mean ${formatCount(c.mean)}`;
    else if (c.mean !== undefined && c.type === 'timestamp') summary = `${new Date(c.min ?? 0).toISOString()} .. ${new Date(c.max ?? 0).toISOString()}`;
    else if (c.mean !== undefined) summary = `min ${c.min}, max ${c.max}, mean ${c.mean}`;
    else if (c.nulls === report.rows) summary = '(all null)';
    rows.push([c.name, c.type, formatCount(c.nulls), summary]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) lines.push(`  ${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3]}`);
  return lines.join('\n');
}

/** One document, a field per line; text and HTML cut after `truncate` characters (null: in full). */
export function formatDoc(doc: Doc, truncate: number | null): string {
  const lines = [`── ${doc.id} ${'─'.repeat(Math.max(0, 60 - doc.id.length))}`];
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'id' || value === null || value === undefined) continue;
    let shown = typeof value === 'string' ? value : key === 'fetched_at' && typeof value === 'number' ? new Date(value).toISOString() : String(value);
    if ((key === 'text' || key === 'html') && truncate !== null && shown.length > truncate) {
      shown = `${shown.slice(0, truncate)}… (${formatCount(shown.length)} chars)`;
    }
    lines.push(key === 'text' || key === 'html' ? `${key}:\n${shown}` : `${key}: ${shown}`);
  }
  return lines.join('\n');
}

/** The largest dedup clusters of `path`: the document each keeps, its cluster's size, URL and text. */
export function formatClusters(path: string, keepers: readonly Doc[]): string {
  const lines = [keepers.length ? `${path}: the ${keepers.length} largest dedup clusters (refinery inspect ${path} --cluster ID lists one)` : `${path}: no dedup clusters`];
  for (const d of keepers) lines.push(`${String(d.dedup_cluster_size).padStart(4)} docs  ${d.id}  ${d.url ?? ''}\n           ${JSON.stringify(String(d.text ?? '').slice(0, 90))}`);
  return lines.join('\n');
}

/** The members of one dedup cluster, kept and excluded. */
export function formatClusterMembers(cluster: string, members: readonly { doc: Doc; kept: boolean }[]): string {
  const lines = [`cluster ${cluster}: ${members.length} documents (${members.filter((m) => m.kept).length} kept)`];
  for (const { doc, kept } of members) {
    const text = typeof doc.text === 'string' ? doc.text : '';
    lines.push(`${kept ? 'kept    ' : 'excluded'}  ${doc.id}  ${formatCount(text.length)} chars  ${doc.url ?? ''}\n          ${JSON.stringify(text.slice(0, 100))}`);
  }
  return lines.join('\n');
}
