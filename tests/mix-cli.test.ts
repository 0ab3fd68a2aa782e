/**
 * `refinery domains`, `mix` and `select` through the real CLI over the sample web: URL
 * rules and a topic classifier label domains; the mix's realised proportions are checked
 * from the shards it wrote, against the targets, the epoch cap and the seed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { SITES } from '../datasets/sample-web/sites.js';
import type { Doc } from '../pipeline/core/schema.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { inValidation } from '../pipeline/core/split.js';
import { readTaskStats, sumStats } from '../pipeline/core/stats.js';
import { CORE_COLUMNS } from '../pipeline/core/schema.js';
import { Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
const text = join(dir, 'text');
const labelled = join(dir, 'labelled');
let pages: Map<string, PageTruth>;
afterAll(() => cleanup(dir));


beforeAll(() => {
  const web = join(dir, 'web');
  cliOk(['sample-web', '-o', web, '--pages', '800', '--seed', '3', '--pages-per-file', '200']);
  cliOk(['ingest', web, '-o', join(dir, 'raw'), '--progress', 'off']);
  cliOk(['extract', join(dir, 'raw'), '-o', text, '--progress', 'off']);
  pages = new Map(
    readFileSync(join(web, 'pages.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PageTruth)
      .map((p) => [p.url, p]),
  );
  // The sample web's own sites as URL rules: every page gets its site's true domain.
  const rules = Object.values(SITES).map((s) => ({ domain: s.domain, hosts: [s.host] }));
  writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules));
  cliOk(['domains', text, '-o', labelled, '--rules', join(dir, 'rules.json'), '--progress', 'off']);
}, 180_000);

/** Text bytes per domain over every file a mix wrote (repeats included), and copies per id. */
async function realised(out: string): Promise<{ bytes: Map<string, number>; copies: Map<string, number>; docs: Doc[] }> {
  const docs = await readDocs(out);
  const bytes = new Map<string, number>();
  const copies = new Map<string, number>();
  for (const d of docs) {
    bytes.set(String(d.domain), (bytes.get(String(d.domain)) ?? 0) + Buffer.byteLength(String(d.text)));
    copies.set(d.id, (copies.get(d.id) ?? 0) + 1);
  }
  return { bytes, copies, docs };
}

const filesDigest = (out: string) => {
  const h = createHash('sha256');
  for (const f of readdirSync(out).filter((n) => n.endsWith('.arrow')).sort()) h.update(f).update(readFileSync(join(out, f)));
  return h.digest('hex');
};

describe('refinery domains', () => {
  it('labels every page by the URL rules, user rules before the built-in ones', async () => {
    await expectAccounting(labelled);
    const docs = await readDocs(labelled);
    expect(docs.length).toBeGreaterThan(500);
    for (const d of docs) {
      expect(d.domain).toBe(pages.get(String(d.url))?.domain);
      expect(d.domain_source).toBe('rule');
    }
    const counters = sumStats(readTaskStats(labelled)).counters;
    expect(counters['domains:news']).toBe(docs.filter((d) => d.domain === 'news').length);
  });

  it('trains a topic classifier on labelled documents and labels what no rule does', async () => {
    writeBrownJsonl(join(dir, 'brown'));
    const r = cliOk(['domains', 'train', '--labelled', join(dir, 'brown'), '--label-field', 'genre', '-o', join(dir, 'topics.bin')]);
    expect(r.stdout).toMatch(/held out: accuracy 0\.\d+, macro F1 0\.\d+/);
    const info = JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8')) as { kind: string; labels: string[] };
    expect(info.kind).toBe('domains');
    expect(info.labels).toHaveLength(15);
    const out = join(dir, 'topics');
    cliOk(['domains', text, '-o', out, '--no-builtin-rules', '--classifier', join(dir, 'topics.bin'), '--progress', 'off']);
    const articles = (await readDocs(out)).filter((d) => pages.get(String(d.url))?.genre);
    expect(articles.length).toBeGreaterThan(200);
    for (const d of articles) expect(d.domain_source).toBe('classifier');
    // 15 genres (chance: 1/15); the held-out Brown accuracy is about 0.5.
    const right = articles.filter((d) => d.domain === pages.get(String(d.url))?.genre).length;
    expect(right / articles.length).toBeGreaterThan(0.3);
  }, 60_000);
});

describe('refinery mix', () => {
  const weights = { news: 0.3, fiction: 0.25, forum: 0.15, academic: 0.1, magazine: 0.2 };
  it('realises explicit weights within 1% and never repeats a document more than --max-epochs', async () => {
    const out = join(dir, 'mix');
    const r = cliOk(['mix', labelled, '-o', out, '--weights', Object.entries(weights).map(([k, v]) => `${k}=${v}`).join(','), '--max-epochs', '3', '--seed', '1', '--progress', 'off', '--json']);
    const report = JSON.parse(r.stdout) as { max_share_error: number; rows: { value: string; epochs: number }[] };
    const { bytes, copies } = await realised(out);
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    expect([...bytes.keys()].sort()).toEqual(Object.keys(weights).sort());
    for (const [d, w] of Object.entries(weights)) expect(Math.abs((bytes.get(d) ?? 0) / total - w), d).toBeLessThan(0.01);
    expect(report.max_share_error).toBeLessThan(0.01);
    expect(Math.max(...copies.values())).toBeLessThanOrEqual(3);
    for (const row of report.rows) expect(row.epochs).toBeLessThanOrEqual(3 + 1e-9);
    // The domain that binds the budget is used 3 times over.
    expect(Math.max(...report.rows.map((x) => x.epochs))).toBeCloseTo(3, 1);
    // Accounting: each input document is kept once or excluded with its reason.
    const stats = sumStats(readTaskStats(out));
    expect(stats.docs_in).toBe(stats.docs_kept + stats.docs_excluded);
    const firsts = readdirSync(out).filter((n) => /^part-\d+-\d+\.arrow$/.test(n));
    let firstRows = 0;
    for (const f of firsts) firstRows += (await readDocs(join(out, f))).length;
    expect(firstRows).toBe(stats.docs_kept);
    expect(new Set((await readDocs(join(out, '_excluded'))).map((d) => String(d.reason).split(':')[0]))).toEqual(new Set(['not-in-mix', 'not-sampled']));
  }, 60_000);

  it('is byte-identical for the same seed and differs for another', () => {
    const run = (seed: number, name: string) => {
      cliOk(['mix', labelled, '-o', join(dir, name), '--temperature', '2', '--max-epochs', '2', '--seed', String(seed), '--progress', 'off']);
      return filesDigest(join(dir, name));
    };
    const a = run(7, 'seed7a');
    expect(run(7, 'seed7b')).toBe(a);
    expect(run(8, 'seed8')).not.toBe(a);
  }, 60_000);

  it('T = 1 keeps the natural proportions', async () => {
    const out = join(dir, 'natural');
    cliOk(['mix', labelled, '-o', out, '--temperature', '1', '--budget', '1MB', '--progress', 'off']);
    const before = await realised(labelled);
    const after = await realised(out);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    for (const [d, n] of before.bytes) expect(Math.abs((after.bytes.get(d) ?? 0) / sum(after.bytes) - n / sum(before.bytes)), d).toBeLessThan(0.01);
    expect(Math.abs(sum(after.bytes) - 1e6) / 1e6).toBeLessThan(0.01);
  }, 60_000);

  it('counts tokens with --unit tokens --tokenizer', async () => {
    const tok = join(dir, 'tok.json');
    cliOk(['tokenizer', 'train', labelled, '-o', tok, '--vocab', '1000']);
    const out = join(dir, 'by-tokens');
    cliOk(['mix', labelled, '-o', out, '--unit', 'tokens', '--tokenizer', tok, '--weights', 'news=2,forum=1,fiction=1', '--progress', 'off']);
    const tokenizer = Tokenizer.load(tok);
    const tokens = new Map<string, number>();
    for (const d of await readDocs(out)) tokens.set(String(d.domain), (tokens.get(String(d.domain)) ?? 0) + tokenizer.encode(String(d.text)).length);
    const total = [...tokens.values()].reduce((a, b) => a + b, 0);
    for (const [d, w] of Object.entries({ news: 0.5, forum: 0.25, fiction: 0.25 })) expect(Math.abs((tokens.get(d) ?? 0) / total - w), d).toBeLessThan(0.01);
    const r = cli(['mix', labelled, '-o', join(dir, 'no-tok'), '--unit', 'tokens']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--unit tokens needs --tokenizer/);
  }, 60_000);

  it('refuses a budget the epoch cap cannot fill, naming the largest that works', () => {
    const r = cli(['mix', labelled, '-o', join(dir, 'too-big'), '--weights', 'news=1,forum=1', '--budget', '1GB', '--progress', 'off']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs [\d.,]+ epochs of "forum" \(--max-epochs 1\); the largest budget these proportions allow is [\d,]+/);
  });
});

describe('refinery select', () => {
  /** Three shards of documents with a score column full of ties. */
  const scored = join(dir, 'scored');
  beforeAll(async () => {
    const columns = [...CORE_COLUMNS, { name: 'score', type: 'float64' as const }];
    mkdirSync(scored, { recursive: true });
    for (let f = 0; f < 3; f++) {
      const w = new ShardWriter({ dir: scored, base: `part-${String(f).padStart(5, '0')}`, columns, metadata: { 'refinery.schema_version': '1' } });
      for (let i = 0; i < 400; i++) w.write({ id: `doc-${f}-${i}`, text: `document ${f} ${i}`, score: (i * 7 + f) % 10 });
      w.publish();
    }
  });

  it('--top keeps exactly that share of all inputs (ties split by id hash), --holdout splits it disjointly by id', async () => {
    const out = join(dir, 'hq');
    cliOk(['select', scored, '-o', out, '--by', 'score', '--top', '25%', '--holdout', '10%', '--progress', 'off']);
    const train = await readDocs(join(out, 'train'));
    const validation = await readDocs(join(out, 'validation'));
    await expectAccounting(join(out, 'train'));
    await expectAccounting(join(out, 'validation'));
    expect(train.length + validation.length).toBe(300);
    const ids = new Set(train.map((d) => d.id));
    for (const d of validation) expect(ids.has(d.id)).toBe(false);
    for (const d of validation) expect(inValidation(d.id, 0.1)).toBe(true);
    for (const d of train) expect(inValidation(d.id, 0.1)).toBe(false);
    const all = await readDocs(scored);
    const kept = new Set([...train, ...validation].map((d) => d.id));
    const minKept = Math.min(...all.filter((d) => kept.has(d.id)).map((d) => Number(d.score)));
    const maxLeft = Math.max(...all.filter((d) => !kept.has(d.id)).map((d) => Number(d.score)));
    expect(minKept).toBeGreaterThanOrEqual(maxLeft);
  }, 60_000);

  it('--min and --lowest', async () => {
    cliOk(['select', scored, '-o', join(dir, 'min'), '--by', 'score', '--min', '8', '--progress', 'off']);
    const kept = await readDocs(join(dir, 'min'));
    expect(kept.length).toBe(240);
    for (const d of kept) expect(Number(d.score)).toBeGreaterThanOrEqual(8);
    cliOk(['select', scored, '-o', join(dir, 'low'), '--by', 'score', '--top', '10%', '--lowest', '--progress', 'off']);
    const low = await readDocs(join(dir, 'low'));
    expect(low.length).toBe(120);
    for (const d of low) expect(Number(d.score)).toBe(0);
    const r = cli(['select', scored, '-o', join(dir, 'bad'), '--by', 'text', '--min', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/column "text" is string, not a number/);
  }, 60_000);
});
