/** `refinery dedup ...` through the real CLI: exact, MinHash-LSH (all at once and step by step), lines, inspect. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageTruth } from '../datasets/sample-web/index.js';
import type { Doc } from '../pipeline/core/schema.js';
import { detectionProbability } from '../pipeline/dedup/minhash.js';
import { normalizeUrl } from '../pipeline/dedup/signatures.js';
import { jaccard, normalizeForDedup, wordShingles } from '../pipeline/text/normalize.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, sharedData, SHARED_SKIP_REASON, tempDir } from './helpers/cli.js';

const dir = tempDir();
const text = join(dir, 'text');
let pages: PageTruth[];
afterAll(() => cleanup(dir));

const ok = (args: string[]) => cliOk([...args, '--progress', 'off']);

beforeAll(() => {
  const web = join(dir, 'web');
  expect(cli(['sample-web', '-o', web, '--pages', '600', '--seed', '7', '--pages-per-file', '150']).code).toBe(0);
  ok(['ingest', web, '-o', join(dir, 'raw')]);
  ok(['extract', join(dir, 'raw'), '-o', text]);
  pages = readFileSync(join(web, 'pages.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PageTruth);
}, 120_000);

/** Kept and excluded documents of a dedup output, and a check of what every cluster says. */
async function clusters(out: string): Promise<{ kept: Doc[]; excluded: Doc[] }> {
  const kept = await readDocs(out);
  const excluded = await readDocs(join(out, '_excluded'));
  const keepers = new Map(kept.filter((d) => d.dedup_cluster !== null).map((d) => [d.id, d]));
  for (const doc of kept) {
    if (doc.dedup_cluster === null) expect(doc.dedup_cluster_size).toBe(1);
    else {
      expect(doc.dedup_cluster).toBe(doc.id); // a kept document in a cluster is its keeper
      expect(doc.dedup_cluster_size).toBeGreaterThanOrEqual(2);
    }
  }
  for (const doc of excluded) {
    const keeper = /^(?:near-)?duplicate: of (.+)$/.exec(String(doc.reason))?.[1];
    expect(keeper, String(doc.reason)).toBeDefined();
    expect(doc.dedup_cluster).toBe(keeper);
    expect(keepers.get(keeper as string)?.dedup_cluster_size).toBe(doc.dedup_cluster_size);
  }
  return { kept, excluded };
}

describe('refinery dedup exact', () => {
  it('keeps one document per normalised URL and per normalised text, the first in input order', async () => {
    const out = join(dir, 'exact');
    ok(['dedup', 'exact', text, '-o', out]);
    const totals = await expectAccounting(out);
    const { kept, excluded } = await clusters(out);
    expect(totals.docs_in).toBe((await readDocs(text)).length);
    expect(new Set(kept.map((d) => normalizeUrl(String(d.url)))).size).toBe(kept.length);
    expect(new Set(kept.map((d) => normalizeForDedup(String(d.text)))).size).toBe(kept.length);
    // Every planted exact duplicate (another URL with the same page, or a recrawl) is gone.
    const keptUrls = new Set(kept.map((d) => d.url));
    for (const p of pages.filter((p) => p.duplicate_of && p.url !== p.duplicate_of)) {
      expect(keptUrls.has(p.url) && keptUrls.has(p.duplicate_of as string), p.url).toBe(false);
    }
    // The first of each cluster in input order is kept.
    const order = new Map((await readDocs(text)).map((d, i) => [d.id, i]));
    for (const doc of excluded) expect(order.get(doc.dedup_cluster as string)).toBeLessThan(order.get(doc.id) as number);
    expect(excluded.length).toBeGreaterThan(30);
  }, 60_000);
});

describe('refinery dedup minhash', () => {
  const exact = join(dir, 'exact');

  it('finds planted near duplicates at the rate the LSH curve predicts', async () => {
    const out = join(dir, 'near');
    ok(['dedup', 'minhash', exact, '-o', out]);
    await expectAccounting(out);
    const { kept, excluded } = await clusters(out);
    const input = new Map((await readDocs(exact)).map((d) => [d.url, d]));
    const keptUrls = new Set(kept.map((d) => d.url));
    let pairs = 0;
    let found = 0;
    let expected = 0;
    let variance = 0;
    for (const p of pages.filter((p) => p.near_duplicate_of && p.near_duplicate_of !== p.url)) {
      const a = input.get(p.url);
      const b = input.get(p.near_duplicate_of as string);
      if (!a || !b) continue;
      const s = jaccard(wordShingles(String(a.text)), wordShingles(String(b.text)));
      const prob = detectionProbability(s, 14, 8);
      const caught = !(keptUrls.has(a.url) && keptUrls.has(b.url));
      if (s >= 0.85) expect(caught, `${p.url}: Jaccard ${s.toFixed(3)}`).toBe(true);
      pairs++;
      found += caught ? 1 : 0;
      expected += prob;
      variance += prob * (1 - prob);
    }
    expect(pairs).toBeGreaterThan(20);
    expect(Math.abs(found - expected)).toBeLessThanOrEqual(3 * Math.sqrt(variance) + 1);
    expect(excluded.every((d) => d.excluded_by === 'minhash-dedup')).toBe(true);
  }, 60_000);

  it('gives the same result phase by phase (--phase), with bucket jobs split across ranks', async () => {
    const out = join(dir, 'steps');
    const cmd = ['dedup', 'minhash', exact, '-o', out];
    ok([...cmd, '--phase', 'signatures', '--workers', '1']);
    ok([...cmd, '--phase', 'buckets', '--rank', '1', '--world-size', '2']);
    // The cluster phase refuses to run on half the buckets.
    const early = cli([...cmd, '--phase', 'cluster']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/phase cluster needs phase buckets finished first \(missing: \d+ of \d+ jobs\)/);
    ok([...cmd, '--phase', 'buckets', '--rank', '0', '--world-size', '2']);
    const clustered = cli([...cmd, '--phase', 'cluster']);
    expect(clustered.code, clustered.stderr).toBe(0);
    expect(clustered.stderr).toMatch(/clusters holding/);
    ok([...cmd, '--phase', 'filter']);
    const ids = async (d: string) => (await readDocs(d)).map((x) => x.id).sort();
    expect(await ids(out)).toEqual(await ids(join(dir, 'near')));
    expect(await ids(join(out, '_excluded'))).toEqual(await ids(join(dir, 'near', '_excluded')));
    // The same work directory with other inputs or another config is refused phase by phase.
    const wrong = cli(['dedup', 'minhash', text, '-o', out, '--phase', 'filter']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/steps-work: holds the results of another config or other inputs; run the command once without --phase/);
    const phases = cli([...cmd, '--phase', 'nope']);
    expect(phases.code).toBe(2);
    expect(phases.stderr).toMatch(/--phase nope: no such phase \(phases: signatures, buckets, cluster, filter\)/);
  }, 60_000);

  it('keeps the longest member of each cluster with --keep longest, and lists members with inspect --cluster', async () => {
    const out = join(dir, 'longest');
    ok(['dedup', 'minhash', exact, '-o', out, '--keep', 'longest']);
    const { kept, excluded } = await clusters(out);
    const length = (d: Doc) => String(d.text).length;
    const keepers = new Map(kept.map((d) => [d.id, d]));
    for (const doc of excluded) expect(length(keepers.get(doc.dedup_cluster as string) as Doc)).toBeGreaterThanOrEqual(length(doc));
    const big = kept.reduce((a, b) => ((b.dedup_cluster_size as number) > (a.dedup_cluster_size as number) ? b : a));
    const r = cli(['inspect', out, '--cluster', big.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`cluster ${big.id}: ${big.dedup_cluster_size} documents (1 kept)`);
    for (const doc of excluded.filter((d) => d.dedup_cluster === big.id)) expect(r.stdout).toContain(doc.id);
    expect(cli(['inspect', out, '--cluster', 'no-such-id']).code).toBe(2);
  }, 60_000);

  it('explains what is missing when phases run out of order', () => {
    const r = cli(['dedup', 'minhash', exact, '-o', join(dir, 'nowhere'), '--phase', 'cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/phase cluster needs phase signatures finished first \(missing: .*\); run --phase signatures on every rank/);
  }, 60_000);
});

describe('refinery dedup lines (CS336 fixtures)', () => {
  const data = sharedData();
  const fixtures = data && join(data, 'cs336-a4-fixtures');

  for (const mode of ['exact', 'bloom'] as const) {
    it.skipIf(!fixtures)(`removes every line that occurs in 2+ documents (${mode} counting)`, async () => {
      if (!fixtures) return;
      const docs = join(dir, `lines-in-${mode}`);
      const out = join(dir, `lines-${mode}`);
      ok(['import', join(fixtures, 'documents_with_line_duplicates'), '-o', docs]);
      const r = ok(['dedup', 'lines', docs, '-o', out, ...(mode === 'bloom' ? ['--bloom', '--bloom-size', '1MiB'] : ['--partitions', '3'])]);
      if (mode === 'bloom') expect(r.stderr).toMatch(/false-positive rate <= \d/);
      await expectAccounting(out);
      const name = (d: Doc) => /doc\d/.exec(d.id)?.[0];
      const kept = new Map((await readDocs(out)).map((d) => [name(d), String(d.text)]));
      const excluded = await readDocs(join(out, '_excluded'));
      const expectedDir = join(fixtures, 'documents_line_deduplicated');
      for (const file of readdirSync(expectedDir)) {
        const want = readFileSync(join(expectedDir, file), 'utf8').trim();
        const doc = file.replace('.txt', '');
        if (want === '') expect(excluded.find((d) => name(d) === doc)?.reason).toMatch(/^all-lines-duplicated/);
        else expect(kept.get(doc)?.trim()).toBe(want);
      }
      expect(kept.size + excluded.length).toBe(5);
    }, 60_000);
  }
  if (!fixtures) it.skip(`CS336 line-dedup fixtures: ${SHARED_SKIP_REASON}`, () => {});
});
