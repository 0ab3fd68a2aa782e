/** The real CLI over real third-party text in ../shared/data (see its README). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARED_SKIP_REASON, cleanup, cli, expectAccounting, readDocs, sharedData, tempDir } from './helpers/cli.js';

const data = sharedData();
const dir = tempDir();
afterAll(() => cleanup(dir));

describe.skipIf(!data)(`import/export over ../shared/data${data ? '' : ` (skipped: ${SHARED_SKIP_REASON})`}`, () => {
  const root = data as string;

  it('imports the DCLM human-labelled JSONL and exports the same records back', async () => {
    const input = join(root, 'quality-dclm-human-labels');
    const out = join(dir, 'dclm');
    const r = cli(['import', input, '-o', out, '--workers', '2', '--progress', 'log']);
    expect(r.code, r.stderr).toBe(0);
    const original = readdirSync(input)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .flatMap((n) => readFileSync(join(input, n), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { text: string; label: number }));
    const totals = await expectAccounting(out);
    expect(totals.docs_in).toBe(original.length);
    // Documents without text would be excluded; every DCLM record has some.
    expect(totals.docs_kept).toBe(original.filter((o) => o.text.length > 0).length);

    const exported = join(dir, 'dclm-jsonl');
    expect(cli(['export', out, '-o', exported, '--format', 'jsonl']).code).toBe(0);
    const back = readdirSync(exported)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .flatMap((n) => readFileSync(join(exported, n), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; label: number }));
    expect(back.map((b) => [b.text, b.label])).toEqual(original.filter((o) => o.text.length > 0).map((o) => [o.text, o.label]));
  });

  it('imports plain text: WikiText one paragraph per line, Botchan one document per file, empty files excluded', async () => {
    const out = join(dir, 'wiki');
    const r = cli(['import', join(root, 'hq-text-wikitext2'), '-o', out, '--txt-mode', 'line']);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(root, 'hq-text-wikitext2', 'wikitext-2.valid.txt'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const totals = await expectAccounting(out);
    expect(totals.docs_kept).toBe(lines.length);
    const docs = await readDocs(out);
    expect(docs.map((d) => d.text)).toEqual(lines.map((l) => l.replace(/\r$/, '')));
    expect(docs[0].id).toMatch(/^wikitext-2\.valid#\d+$/);

    const books = join(dir, 'books');
    expect(cli(['import', join(root, 'hq-text-gutenberg-botchan'), join(root, 'cs336-a4-fixtures', 'documents_line_deduplicated'), '-o', books]).code).toBe(0);
    const bookTotals = await expectAccounting(books);
    const empty = readdirSync(join(root, 'cs336-a4-fixtures', 'documents_line_deduplicated')).filter(
      (n) => readFileSync(join(root, 'cs336-a4-fixtures', 'documents_line_deduplicated', n), 'utf8').length === 0,
    ).length;
    expect(empty).toBeGreaterThan(0);
    expect(bookTotals.steps.find((s) => s.name === 'min-chars')?.reasons).toEqual({ 'too-short': empty });
    const botchan = (await readDocs(books)).find((d) => d.id === 'botchan.part1');
    expect(botchan?.text).toBe(readFileSync(join(root, 'hq-text-gutenberg-botchan', 'botchan.part1.txt'), 'utf8'));
  });
});
