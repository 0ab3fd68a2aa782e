/** The sample web: deterministic, honest about what it planted, and ingestible. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { jaccard, wordShingles } from '../pipeline/text/normalize.js';
import { cleanup, cli, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
const web = join(dir, 'web');
let pages: PageTruth[];
afterAll(() => cleanup(dir));

beforeAll(() => {
  const r = cli(['sample-web', '-o', web, '--pages', '600', '--seed', '7', '--pages-per-file', '150']);
  expect(r.code, r.stderr).toBe(0);
  pages = readFileSync(join(web, 'pages.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PageTruth);
}, 60_000);

const luhn = (digits: string) => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return sum % 10 === 0;
};
const ibanValid = (iban: string) => {
  const s = iban.replace(/\s/g, '');
  const digits = `${s.slice(4)}${s.slice(0, 4)}`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rem = 0;
  for (const ch of digits) rem = (rem * 10 + Number(ch)) % 97;
  return rem === 1;
};

describe('refinery sample-web', () => {
  it('is byte-identical for a seed and different for another', () => {
    const again = join(dir, 'again');
    const other = join(dir, 'other');
    expect(cli(['sample-web', '-o', again, '--pages', '600', '--seed', '7', '--pages-per-file', '150']).code).toBe(0);
    expect(cli(['sample-web', '-o', other, '--pages', '600', '--seed', '8', '--pages-per-file', '150']).code).toBe(0);
    const files = readdirSync(web).sort();
    expect(files).toEqual(['manifest.json', 'pages.jsonl', 'sample-web-00000.warc.gz', 'sample-web-00001.warc.gz', 'sample-web-00002.warc.gz', 'sample-web-00003.warc.gz']);
    for (const f of files) expect(readFileSync(join(again, f)).equals(readFileSync(join(web, f))), f).toBe(true);
    expect(readFileSync(join(other, 'pages.jsonl')).equals(readFileSync(join(web, 'pages.jsonl')))).toBe(false);
  });

  it('plants every kind of page, and its ground truth holds', () => {
    const kinds = new Set(pages.map((p) => p.kind));
    for (const k of ['article', 'forum', 'spam', 'foreign', 'exact_duplicate', 'near_duplicate', 'not_found', 'redirect', 'non_html']) expect(kinds, k).toContain(k);
    const byUrl = new Map(pages.filter((p) => p.kind === 'article').map((p) => [p.url, p]));
    for (const p of pages.filter((q) => q.kind === 'exact_duplicate')) expect(p.text).toBe(byUrl.get(p.duplicate_of as string)?.text);
    for (const p of pages.filter((q) => q.kind === 'near_duplicate')) {
      const original = byUrl.get(p.near_duplicate_of as string) as PageTruth;
      expect(jaccard(wordShingles(original.text as string), wordShingles(p.text as string))).toBeCloseTo(p.jaccard as number, 3);
      expect(p.jaccard).toBeLessThan(1);
    }
    const planted = pages.flatMap((p) => p.pii.map((x) => ({ ...x, text: p.text as string })));
    expect(planted.length).toBeGreaterThan(10);
    for (const x of planted) {
      expect(x.text).toContain(x.value);
      if (x.type === 'credit_card') expect(luhn(x.value.replace(/\s/g, '')), x.value).toBe(true);
      if (x.type === 'iban') expect(ibanValid(x.value), x.value).toBe(true);
    }
  });

  it('ingests to exactly its HTML pages, decoded from every charset it used', async () => {
    const out = join(dir, 'raw');
    const r = cli(['ingest', web, '-o', out, '--workers', '2']);
    expect(r.code, r.stderr).toBe(0);
    const totals = await expectAccounting(out);
    const expected = pages.filter((p) => p.status === 200 && p.content_type === 'text/html');
    expect(totals.docs_kept).toBe(expected.length);
    expect(totals.docs_excluded).toBe(0);
    expect(totals.problems).toBe(0);
    expect(totals.counters['skipped:status']).toBe(pages.filter((p) => p.status !== 200).length);
    expect(totals.counters['skipped:content-type']).toBe(pages.filter((p) => p.kind === 'non_html').length);

    const docs = new Map((await readDocs(out)).map((d) => [d.id, d]));
    const charsets = new Set<string>();
    for (const page of expected) {
      const doc = docs.get(page.record_id);
      expect(doc, page.url).toBeDefined();
      expect(doc?.url).toBe(page.url);
      expect(doc?.source).toBe(`${join(web, page.file)}@${page.offset}`);
      expect(doc?.charset, page.url).toBe(page.charset);
      charsets.add(page.charset as string);
      // Every paragraph of the gold text is in the decoded HTML (HTML-escaped).
      const html = (doc?.html as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/<br>/g, '\n');
      for (const para of (page.text as string).split('\n\n')) expect(html, page.url).toContain(para);
    }
    expect(charsets.size).toBeGreaterThanOrEqual(3);
  });
});
