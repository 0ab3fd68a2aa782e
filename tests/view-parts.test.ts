/**
 * The parts of `refinery view` that need no browser: documents by position through the
 * footer's batch index (against reading the shards in order), the column filters, the text
 * diff, and escaping.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_COLUMNS, META, type Doc } from '../pipeline/core/schema.js';
import { openShard } from '../pipeline/core/shard-reader.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { diffHtml, diffSeq } from '../pipeline/view/diff.js';
import { matches, parseFilter } from '../pipeline/view/filters.js';
import { esc, html } from '../pipeline/view/html.js';
import { fileInside } from '../pipeline/view/outputs.js';
import { docsAt, indexPart, positionOf, scanFrom } from '../pipeline/view/shard-index.js';
import { cleanup, readDocs, tempDir } from './helpers/cli.js';

let dir: string;
const COLUMNS = [...CORE_COLUMNS, { name: 'quality_hq', type: 'float64' as const }];

const doc = (i: number): Doc => ({
  id: `doc-${i}`,
  url: `https://site-${i % 7}.example/${i}`,
  source: null,
  fetched_at: null,
  content_type: null,
  text: `document ${i} ${'word '.repeat(i % 13)}`,
  lang: i % 3 === 0 ? 'pt' : 'en',
  lang_score: 1,
  quality_hq: (i % 10) / 10,
});

beforeAll(() => {
  dir = tempDir('refinery-view-parts-');
  mkdirSync(join(dir, 'out'));
  // Three files of uneven batches (37 rows each, files of 250, 1 and 400 documents).
  let i = 0;
  for (const [t, n] of [[0, 250], [1, 1], [2, 400]] as const) {
    const w = new ShardWriter({ dir: join(dir, 'out'), base: `part-0000${t}`, columns: COLUMNS, metadata: { [META.schemaVersion]: '1', [META.stage]: 'test' }, batchRows: 37 });
    for (let k = 0; k < n; k++) w.write(doc(i++));
    w.publish();
  }
});
afterAll(() => cleanup(dir));

describe('documents by position', () => {
  it('reads batch row counts from the footer and each batch alone', async () => {
    const shard = await openShard(join(dir, 'out', 'part-00000-0000.arrow'));
    const rows = await shard.batchRows();
    expect(rows).toEqual([37, 37, 37, 37, 37, 37, 28]);
    const third = await shard.readBatch(2);
    expect(third?.numRows).toBe(37);
    let k = 0;
    for await (const b of shard.readBatches()) if (k++ === 2) expect(b.getChild('id')?.get(0)).toBe(third?.getChild('id')?.get(0));
    await shard.close();
  });

  it('gives the same documents as reading in order, at every position and across files', async () => {
    const all = await readDocs(join(dir, 'out'));
    const index = await indexPart(join(dir, 'out'));
    expect(index.rows).toBe(651);
    for (const at of [0, 36, 37, 249, 250, 251, 300, 650]) {
      const got = await docsAt(index, at, 40);
      expect(got.map((g) => g.pos)).toEqual(all.slice(at, at + 40).map((_, k) => at + k));
      expect(got.map((g) => g.doc)).toEqual(all.slice(at, at + 40));
    }
    expect(await docsAt(index, 651, 5)).toEqual([]);
    let seen = 0;
    for await (const rows of scanFrom(index, 640)) seen += rows.length;
    expect(seen).toBe(11);
    expect(await positionOf(index, 'doc-400')).toBe(400);
    expect(await positionOf(index, 'no-such')).toBeNull();
  });
});

describe('filters', () => {
  it('compare numbers as numbers, strings as strings, and reasons by name', () => {
    const d: Doc = { id: 'a', lang: 'pt', quality_hq: 0.85, reason: 'dup-lines: 0.750 (needs <= 0.3)', url: 'https://Wiki.example/x', n: 10 };
    const ok = (term: string) => matches(d, [parseFilter(term)]);
    expect([ok('lang = pt') && ok('lang == pt'), ok('lang != pt'), ok('quality_hq > 0.8'), ok('quality_hq >= 0.9'), ok('n > 9'), ok('n < 9')]).toEqual([true, false, true, false, true, false]);
    expect([ok('reason = dup-lines'), ok('reason = dup-line'), ok('reason = dup-lines: 0.750 (needs <= 0.3)'), ok('url ~ wiki'), ok('missing = null')]).toEqual([true, false, true, true, true]);
    expect(() => parseFilter('lang pt')).toThrow(/expected COLUMN OP VALUE/);
  });
});

describe('diff', () => {
  it('keeps the longest common lines and marks the rest', () => {
    expect(diffSeq(['a', 'b', 'c', 'd'], ['a', 'c', 'x', 'd'])).toEqual([
      { op: 'same', text: 'a' },
      { op: 'del', text: 'b' },
      { op: 'same', text: 'c' },
      { op: 'ins', text: 'x' },
      { op: 'same', text: 'd' },
    ]);
    const d = diffHtml('keep\nmail me at a@b.example now\nboilerplate line\nend', 'keep\nmail me at [EMAIL] now\nend');
    expect(d.html.html).toBe('keep\nmail me at <del>a@b.example</del><ins>[EMAIL]</ins> now<del>\nboilerplate line</del>\nend');
    expect(diffHtml('<b>x</b>', '<i>x</i>').html.html).toBe('<ins>&lt;i&gt;x&lt;/i&gt;</ins><del>\n&lt;b&gt;x&lt;/b&gt;</del>');
    // Without what is struck through, the page's text is exactly the new text.
    const unstruck = (h: string) => h.replace(/<del>[^]*?<\/del>/g, '').replace(/<\/?ins>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const cases: [string, string][] = [['a\nb\nc', 'a\nc'], ['a\nb', 'b'], ['a\nb\nc', 'c'], ['a', ''], ['a\nb', 'a'], ['x y z\nb\nc', 'c\nx y Z\nq'], ['', 'new\nlines']];
    for (const [a, b] of cases) expect(unstruck(diffHtml(a, b).html.html), JSON.stringify([a, b])).toBe(b);
  });
});

describe('escaping and paths', () => {
  it('escapes what templates interpolate', () => {
    expect(html`<p title="${'"x"'}">${'<script>alert(1)</script>'}</p>`.html).toBe('<p title="&quot;x&quot;">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(esc("a'b&")).toBe('a&#39;b&amp;');
  });
  it('finds files only inside the root', () => {
    expect(fileInside(dir, 'out/part-00000-0000.arrow')).toBe(join(dir, 'out', 'part-00000-0000.arrow'));
    for (const rel of ['../etc/passwd', 'out/../../x', 'out//x', './out', 'out\\..\\x', 'missing']) expect(fileInside(dir, rel), rel).toBeNull();
  });
});
