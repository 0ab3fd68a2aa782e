/** `refinery quality ...` through the real CLI: rules over the sample web, classifier training, --min-score, --keep-top, explain. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { readTaskStats, sumStats } from '../pipeline/core/stats.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
const text = join(dir, 'text');
let pages: Map<string, PageTruth>;
afterAll(() => cleanup(dir));


beforeAll(() => {
  const web = join(dir, 'web');
  cliOk(['sample-web', '-o', web, '--pages', '600', '--seed', '5', '--pages-per-file', '150']);
  cliOk(['ingest', web, '-o', join(dir, 'raw'), '--progress', 'off']);
  cliOk(['extract', join(dir, 'raw'), '-o', text, '--progress', 'off']);
  writeBrownJsonl(join(dir, 'brown'));
  cliOk(['import', join(dir, 'brown'), '-o', join(dir, 'brown-docs'), '--progress', 'off']);
  pages = new Map(
    readFileSync(join(web, 'pages.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PageTruth)
      .map((p) => [p.url, p]),
  );
}, 120_000);

const RULES = /^(dup-paragraphs|dup-paragraph-chars|dup-lines|dup-line-chars|top-[234]-gram|dup-(5|6|7|8|9|10)-grams|too-few-words|too-many-words|short-words|long-words|too-many-hashes|too-many-ellipses|too-many-bullet-lines|too-many-ellipsis-lines|too-few-alpha-words|too-few-stop-words|lorem-ipsum|curly-bracket|too-few-sentences|no-lines|few-punctuated-lines|many-short-lines|many-newlines|low-score): /;

describe('refinery quality filter', () => {
  it('applies the four rule families, each exclusion naming its rule, value and threshold', async () => {
    const out = join(dir, 'rules');
    cliOk(['quality', 'filter', text, '-o', out, '--progress', 'off']);
    const totals = await expectAccounting(out);
    const excluded = await readDocs(join(out, '_excluded'));
    expect(excluded.length).toBeGreaterThan(0);
    for (const doc of excluded) {
      expect(doc.reason).toMatch(RULES);
      expect(doc.reason).toMatch(/\(needs (absent|[<>]= [\d.]+)\)$/);
      expect(['gopher-repetition', 'gopher-quality', 'c4', 'fineweb']).toContain(doc.excluded_by);
    }
    // Per-rule stats: the step reasons add up to the exclusions.
    const stats = sumStats(readTaskStats(out));
    const byReason = stats.steps.flatMap((s) => Object.values(s.reasons)).reduce((a, b) => a + b, 0);
    expect(byReason).toBe(totals.docs_excluded);
    // The spam pages go; most articles stay.
    const share = async (kind: string) => {
      const kept = new Set((await readDocs(out)).map((d) => d.url));
      const all = (await readDocs(text)).filter((d) => pages.get(String(d.url))?.kind === kind);
      return all.filter((d) => kept.has(d.url)).length / all.length;
    };
    expect(await share('spam')).toBeLessThan(0.2);
    expect(await share('article')).toBeGreaterThan(0.6);
    // C4 cleaned the kept texts: its removed lines are counted.
    expect(Object.keys(stats.counters).some((k) => k.startsWith('c4 lines removed:'))).toBe(true);
  }, 60_000);

  it('turns families off and thresholds down from flags', async () => {
    const out = join(dir, 'lenient');
    cliOk(['quality', 'filter', text, '-o', out, '--progress', 'off', '--no-gopher-repetition', '--no-c4', '--no-fineweb', '--gopher-min-alpha-words-ratio', '0.5']);
    const excluded = await readDocs(join(out, '_excluded'));
    expect(excluded.every((d) => d.excluded_by === 'gopher-quality')).toBe(true);
    for (const d of excluded.filter((x) => String(x.reason).startsWith('too-few-alpha-words'))) {
      expect(d.reason).toMatch(/\(needs >= 0\.5\)$/);
      expect(Number(/: ([\d.]+) /.exec(String(d.reason))?.[1])).toBeLessThan(0.5);
    }
  }, 60_000);
});

describe('refinery quality train and the classifier', () => {
  const model = join(dir, 'model', 'brown.bin');

  it('trains a fastText model (Brown vs the pages the rules reject) and reports its hold-out', () => {
    const r = cliOk(['quality', 'train', '--positive', join(dir, 'brown-docs'), '--negative', join(dir, 'rules', '_excluded'), '-o', model, '--label', 'brown', '--min-chars', '50']);
    expect(r.stdout).toMatch(/held out: accuracy 0\.\d+, ROC AUC (0\.\d+|1\.000)/);
    const info = JSON.parse(readFileSync(model.replace(/\.bin$/, '.json'), 'utf8')) as { label: string; labels: string[]; trained: { holdout: { roc_auc: number } } };
    expect(info.labels).toEqual(['brown', 'cc']);
    expect(info.trained.holdout.roc_auc).toBeGreaterThan(0.8);
  }, 60_000);

  it('adds quality_<label> and keeps by --min-score', async () => {
    const out = join(dir, 'scored');
    cliOk(['quality', 'filter', text, '-o', out, '--progress', 'off', '--classifier', model, '--min-score', '0.5']);
    await expectAccounting(out);
    const kept = await readDocs(out);
    expect(kept.length).toBeGreaterThan(0);
    for (const d of kept) expect(d.quality_brown as number).toBeGreaterThanOrEqual(0.5);
    const low = (await readDocs(join(out, '_excluded'))).filter((d) => d.excluded_by === 'classifier');
    expect(low.length).toBeGreaterThan(0);
    for (const d of low) {
      expect(d.quality_brown as number).toBeLessThan(0.5);
      expect(d.reason).toMatch(/^low-score: quality_brown (0\.\d+|\d(\.\d+)?e-\d+) < 0\.5$/);
    }
  }, 60_000);

  it('keeps the global top share with --keep-top, from one scoring pass', async () => {
    const out = join(dir, 'top');
    const r = cliOk(['quality', 'filter', text, '-o', out, '--progress', 'off', '--classifier', model, '--keep-top', '20%']);
    const m = /keeping the top 20% of (\d+) scored documents \((\d+)\): quality_brown >= ([\d.]+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const [scored, keep, threshold] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    expect(keep).toBe(Math.ceil(scored * 0.2));
    await expectAccounting(out);
    const kept = await readDocs(out);
    expect(kept.length).toBeGreaterThanOrEqual(keep);
    expect(kept.length).toBeLessThanOrEqual(keep + 3); // ties at the threshold
    const excludedByScore = (await readDocs(join(out, '_excluded'))).filter((d) => d.excluded_by === 'classifier');
    expect(kept.length + excludedByScore.length).toBe(scored);
    const minKept = Math.min(...kept.map((d) => d.quality_brown as number));
    const maxDropped = Math.max(...excludedByScore.map((d) => d.quality_brown as number));
    expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    expect(minKept).toBeCloseTo(threshold, 3);
    // The scores came from the scoring pass: the same as scoring directly.
    const direct = new Map((await readDocs(join(dir, 'scored'))).map((d) => [d.id, d.quality_brown]));
    for (const d of kept) if (direct.has(d.id)) expect(d.quality_brown).toBeCloseTo(direct.get(d.id) as number, 5);
  }, 60_000);

  it('explains one text: every rule, the classifier score and the verdict', () => {
    const file = join(dir, 'page.txt');
    writeFileSync(file, 'Buy now!\nCheap followers\nClick here\n');
    const r = cliOk(['quality', 'explain', file, '--classifier', model]);
    for (const rule of ['dup-paragraphs', 'top-2-gram', 'dup-10-grams', 'too-few-words', 'too-few-stop-words', 'too-few-sentences', 'many-newlines', 'quality_brown']) expect(r.stdout).toContain(rule);
    expect(r.stdout).toMatch(/verdict: excluded by gopher-/);
    const json = JSON.parse(cliOk(['quality', 'explain', file, '--json']).stdout) as { checks: unknown[]; excludedBy: { rule: string } };
    expect(json.checks.length).toBeGreaterThan(25);
    expect(json.excludedBy.rule).toBeTruthy();
  }, 60_000);
});
