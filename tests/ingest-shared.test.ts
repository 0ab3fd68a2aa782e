/**
 * `refinery ingest` over every WARC/WET/ARC file in ../shared/data. Record counts by type
 * come from the folders' READMEs; documents kept are checked against an independent count
 * (a deliberately naive regex scan of the decompressed bytes) for the intact files, and
 * against what the READMEs say of the damage for the damaged ones.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTaskStats, type TaskStats } from '../pipeline/core/stats.js';
import { SHARED_SKIP_REASON, cleanup, cli, expectAccounting, readDocs, sharedData, tempDir } from './helpers/cli.js';

const data = sharedData();
const dir = tempDir();
afterAll(() => cleanup(dir));

/** Records by type, as the READMEs list them. */
const README_RECORDS: Record<string, Record<string, number>> = {
  '1213893279526_0.part1.arc': { filedesc: 1, response: 72 },
  'CC-MAIN-2020-34-excerpt.part1.warc.gz': { metadata: 8, request: 8, response: 8, warcinfo: 1 },
  'clipped.warc.gz': { response: 1 },
  'appended_zip_fragment_unexpected_eof.wet.gz': { conversion: 16, warcinfo: 1 },
  'fragment3.wet.gz': { conversion: 5, warcinfo: 1 },
  'fragment1_incomplete_last.wet.gz': { conversion: 2, warcinfo: 1 },
  'fragment1_asthma_incomplete_last.wet.gz': { conversion: 2, warcinfo: 1 },
  'fragment2_no_header.wet.gz': { conversion: 2 },
  'corrupt_starts_with_conversion.wet.gz': { conversion: 5, warcinfo: 1 },
  'corrupt_two_warcinfo.wet.gz': { conversion: 5, warcinfo: 2 },
  'corrupt_warcconversion_1.wet.gz': { conversion: 5, warcinfo: 1 },
  'corrupt_warcconversion_2.wet.gz': { conversion: 1, warcinfo: 1 },
  'corrupt_warcinfo_1.wet.gz': { conversion: 5, warcinfo: 1 },
  'file_and_wet_headers_only.wet.gz': { conversion: 1, warcinfo: 1 },
  'file_headers_only.wet.gz': { warcinfo: 1 },
  'whirlwind.warc.gz': { metadata: 1, request: 1, response: 1, warcinfo: 1 },
  'whirlwind.warc.wet.gz': { conversion: 1, warcinfo: 1 },
  'example.warc.gz': { request: 2, response: 1, revisit: 1, warcinfo: 2 },
  'example.warc': { request: 2, response: 1, revisit: 1, warcinfo: 2 },
  'example-iana.org-chunked.warc': { request: 1, response: 1, warcinfo: 1 },
  'example-digest.warc': { request: 4 },
  'example-resource.warc.gz': { resource: 1, warcinfo: 2 },
  'example.arc.gz': { filedesc: 1, response: 1 },
  'example-space-in-target-uri.warc.gz': { resource: 1, warcinfo: 1 },
  'post-test.warc.gz': { request: 3, response: 3 },
  'BL-20140325122341434-00000-32090_opera_8443.warc.gz': { metadata: 62, request: 62, response: 10, revisit: 55, warcinfo: 1 },
  'flashfrozen-jwat-recompressed.warc.gz': { request: 39, resource: 3, response: 39, warcinfo: 1 },
  'IAH-20080430204825-00000-blackbook.part1.warc.gz': { metadata: 129, request: 129, response: 152, warcinfo: 1 },
  'sample-0000.warc.gz': { metadata: 1, request: 22, resource: 2, response: 22, warcinfo: 1 },
};

/** Damaged files: documents kept and excluded (with reasons), from what the READMEs say is wrong. */
const DAMAGED: Record<string, { kept: number; excluded: Record<string, number>; problems: boolean }> = {
  'clipped.warc.gz': { kept: 0, excluded: { 'truncated-record': 1 }, problems: true },
  'appended_zip_fragment_unexpected_eof.wet.gz': { kept: 15, excluded: { 'truncated-record': 1 }, problems: true },
  'fragment1_incomplete_last.wet.gz': { kept: 1, excluded: { 'truncated-record': 1 }, problems: true },
  'fragment1_asthma_incomplete_last.wet.gz': { kept: 1, excluded: { 'truncated-record': 1 }, problems: true },
  'fragment2_no_header.wet.gz': { kept: 1, excluded: { 'truncated-record': 1 }, problems: true },
  'corrupt_warcconversion_1.wet.gz': { kept: 4, excluded: { 'missing-url': 1 }, problems: false },
  'corrupt_warcconversion_2.wet.gz': { kept: 0, excluded: { 'missing-url': 1 }, problems: false },
  'file_and_wet_headers_only.wet.gz': { kept: 0, excluded: { 'truncated-record': 1 }, problems: true },
  'file_headers_only.wet.gz': { kept: 0, excluded: {}, problems: true },
};

/** A naive, independent count of the documents an intact archive should give: HTML 200 responses and conversions. */
function naiveCount(file: string): number {
  const raw = readFileSync(file);
  const bytes = file.endsWith('.gz') ? gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }) : raw;
  const text = bytes.toString('latin1');
  const isHtml200 = (http: string) =>
    /^HTTP\/\d(\.\d)? 200/.test(http) && /\ncontent-type:\s*(text\/html|application\/xhtml\+xml)/i.test(http.split(/\r?\n\r?\n/)[0]);
  if (text.startsWith('filedesc://')) {
    let count = 0;
    const header = /^(\S+) \S+ \d{14} \S+ (\d+)\n/gm;
    for (let m = header.exec(text); m; m = header.exec(text)) {
      const start = m.index + m[0].length;
      if (m[1].startsWith('http') && isHtml200(text.slice(start, start + 4096))) count++;
      header.lastIndex = start + Number(m[2]);
    }
    return count;
  }
  let count = 0;
  for (const record of text.split(/\r?\n(?=WARC\/\d\.\d+\r?\n)/)) {
    const type = /WARC-Type: (\w+)/.exec(record)?.[1];
    if (type === 'conversion') count++;
    if (type === 'response') {
      const block = record.slice(record.search(/\r?\n\r?\n/)).replace(/^\s+/, '');
      if (isHtml200(block)) count++;
    }
  }
  return count;
}

describe.skipIf(!data)(`ingest over every archive in ../shared/data${data ? '' : ` (skipped: ${SHARED_SKIP_REASON})`}`, () => {
  const root = data as string;
  const folders = ['cc-arc-2008-copycat', 'cc-warc-resiliparse', 'cc-wet-jeffharwell', 'cc-whirlwind', 'warc-fixtures-warcio', 'warc-heritrix-ukwa', 'warc-ia-2008-aut', 'warc-wget-dolma'];
  const out = join(dir, 'raw');
  let byFile: Map<string, TaskStats>;

  beforeAll(() => {
    const r = cli(['ingest', ...folders.map((f) => join(root, f)), '-o', out, '--workers', '2', '--progress', 'log']);
    expect(r.code, r.stderr).toBe(0);
    byFile = new Map(readTaskStats(out).map((s) => [basename(s.input), s]));
  }, 120_000);

  it('ingests every file, with the books balanced', async () => {
    expect([...byFile.keys()].sort()).toEqual(Object.keys(README_RECORDS).sort());
    const totals = await expectAccounting(out);
    expect(totals.docs_kept).toBeGreaterThan(150);
  });

  it('counts records by type as the READMEs list them', () => {
    for (const [file, expected] of Object.entries(README_RECORDS)) {
      const counters = byFile.get(file)?.counters ?? {};
      const seen = Object.fromEntries(Object.entries(counters).filter(([k]) => k.startsWith('records:')).map(([k, v]) => [k.slice(8), v]));
      expect(seen, file).toEqual(expected);
      // Every record that is not a document is counted as skipped, with why.
      const skipped = Object.entries(counters).filter(([k]) => k.startsWith('skipped:')).reduce((n, [, v]) => n + v, 0);
      const records = Object.values(expected).reduce((a, b) => a + b, 0);
      expect(skipped + (byFile.get(file)?.docs_in ?? 0), file).toBe(records);
    }
  });

  it('keeps as many documents as an independent count finds in the intact files', () => {
    for (const folder of folders) {
      for (const file of Object.keys(README_RECORDS)) {
        const stats = byFile.get(file) as TaskStats;
        if (!stats.input.includes(`/${folder}/`) || DAMAGED[file]) continue;
        expect(stats.docs_kept, file).toBe(naiveCount(stats.input));
        expect(stats.docs_excluded, file).toBe(0);
        expect(stats.problems_total, file).toBe(0);
      }
    }
  });

  it('keeps the intact records of damaged files and reports the damage', () => {
    for (const [file, expected] of Object.entries(DAMAGED)) {
      const stats = byFile.get(file) as TaskStats;
      expect(stats.docs_kept, file).toBe(expected.kept);
      expect(stats.steps[0].reasons, file).toEqual(expected.excluded);
      expect(stats.problems_total > 0, file).toBe(expected.problems);
      for (const p of stats.problems) expect(p.where).toMatch(/^offset \d+(\+\d+)?$/);
    }
  });

  it('records url, date, record id, source offset, charset and decoded HTML', async () => {
    const docs = await readDocs(out);
    const whirlwind = docs.find((d) => d.url === 'https://an.wikipedia.org/wiki/Escopete' && d.warc_type === 'response');
    expect(whirlwind).toMatchObject({ http_status: 200, content_type: 'text/html', charset: 'utf-8', warc_record_id: expect.stringMatching(/^urn:uuid:/) });
    expect(whirlwind?.html).toMatch(/<html[\s\S]*Escopete/);
    expect(whirlwind?.source).toMatch(/whirlwind\.warc\.gz@\d+$/);
    expect(new Date(whirlwind?.fetched_at as number).toISOString()).toMatch(/^2024-05/);
    const wet = docs.find((d) => d.url === 'https://an.wikipedia.org/wiki/Escopete' && d.warc_type === 'conversion');
    expect(wet?.text).toMatch(/Escopete/);
    // Chunked + gzip-encoded HTML inside a 2008 ARC file, decoded.
    const arc = docs.filter((d) => (d.source as string).includes('.arc@'));
    expect(arc.length).toBeGreaterThan(50);
    expect(arc.every((d) => typeof d.html === 'string' && /<(html|body|head|title|!doctype)/i.test(d.html as string))).toBe(true);
    // Wget's <angle-bracketed> target URIs are unwrapped.
    expect(docs.filter((d) => (d.source as string).includes('sample-0000')).every((d) => /^https?:\/\//.test(d.url as string))).toBe(true);
    // Chinese pages from the Common Crawl excerpt come out as readable UTF-8.
    const cc = docs.filter((d) => (d.source as string).includes('CC-MAIN-2020-34'));
    expect(cc.some((d) => /[\u4e00-\u9fff]{4}/.test(d.html as string))).toBe(true);
    expect(cc.every((d) => !(d.html as string).includes('\ufffd\ufffd\ufffd'))).toBe(true);
  });
});
