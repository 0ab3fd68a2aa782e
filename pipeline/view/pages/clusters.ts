/** The Clusters page: the largest near-duplicate clusters of each dedup output, members side by side, the kept one marked. */
import { excludedDirToRead } from '../../core/layout.js';
import type { Doc } from '../../core/schema.js';
import { findDocs, largestClusters } from '../../inspect/inspect.js';
import { count, href, html, page } from '../html.js';
import type { ViewSite } from '../outputs.js';

const CLUSTERS = 8;
const MEMBERS = 6;
const CHARS = 700;

/**
 * The members of several clusters in one pass over the kept and one over the excluded documents
 * (`inspect --cluster` reads both once per cluster): kept first, then excluded, in file order.
 */
async function membersOf(dir: string, clusters: ReadonlySet<string>): Promise<Map<string, { doc: Doc; kept: boolean }[]>> {
  const members = new Map<string, { doc: Doc; kept: boolean }[]>();
  const inOne = (d: Doc) => clusters.has(String(d.dedup_cluster));
  const excludedDir = excludedDirToRead(dir);
  for (const [part, kept] of [[dir, true], [excludedDir, false]] as const) {
    if (!part) continue;
    for (const doc of await findDocs(part, inOne, Number.POSITIVE_INFINITY)) {
      const key = String(doc.dedup_cluster);
      members.set(key, [...(members.get(key) ?? []), { doc, kept }]);
    }
  }
  return members;
}

export async function clustersPage(site: ViewSite): Promise<string> {
  const dedups = site.outputs.filter((o) => o.manifest.stage === 'dedup');
  const sections = [];
  for (const out of dedups) {
    const keepers = await largestClusters(out.dir, CLUSTERS);
    const members = await membersOf(out.dir, new Set(keepers.map((k) => String(k.id))));
    const clusters = [];
    for (const keeper of keepers) {
      const listed = (members.get(String(keeper.id)) ?? []).slice(0, MEMBERS);
      clusters.push(html`<h3>${count(Number(keeper.dedup_cluster_size))} documents, cluster ${keeper.id}</h3><div class="cols">
${listed.map(({ doc, kept }) => html`<div class="card${kept ? ' kept' : ''}" data-id="${doc.id}" data-kept="${kept}">${kept ? html`<span class="badge">kept</span>` : html`<span class="muted">excluded: ${doc.reason}</span>`}
<div><a href="${href('/doc', { id: doc.id, out: out.slug })}">${doc.id}</a></div><div class="muted">${doc.url}</div><pre>${String(doc.text ?? '').slice(0, CHARS)}</pre></div>`)}</div>`);
    }
    sections.push(html`<section data-slug="${out.slug}"><h2><a href="${href('/stage', { out: out.slug })}">${out.slug}</a></h2>${clusters.length ? clusters : html`<p>No document of this output has a near duplicate.</p>`}</section>`);
  }
  return page({ title: 'Clusters' }, html`<h1>Near-duplicate clusters</h1>${sections.length ? sections : html`<p>No dedup output here.</p>`}`);
}
