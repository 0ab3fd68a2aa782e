/**
 * `refinery decontaminate` through the real CLI over real text: WikiText-2 paragraphs as the
 * corpus, sentences of Botchan (Gutenberg) as evaluation items planted into it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layout } from '../pipeline/core/layout.js';
import { Random } from '../pipeline/core/random.js';
import type { Doc } from '../pipeline/core/schema.js';
import { NgramIndex, splitWords, type TaskItem } from '../pipeline/decontaminate/ngrams.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, sharedData, SHARED_SKIP_REASON, tempDir } from './helpers/cli.js';

const data = sharedData();
const dir = tempDir('refinery-decon-');
afterAll(() => cleanup(dir));
const ok = (args: string[]) => cliOk([...args, '--progress', 'off']);

/** The test's own normalisation (the spec: lower case, punctuation removed, words split on white space). */
const norm = (text: string) => text.toLowerCase().split(/\s+/).map((w) => w.replace(/[\p{P}\p{S}]+/gu, '')).filter(Boolean);

let wiki: string[] = [];
let wikiSentences: string[] = [];
let botchan: string[] = [];

function writeJsonl(file: string, rows: unknown[]): string {
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return file;
}

function importDocs(name: string, docs: { id: string; text: string }[]): string {
  const out = join(dir, name);
  ok(['import', writeJsonl(join(dir, `${name}.jsonl`), docs), '-o', out]);
  return out;
}

beforeAll(() => {
  if (!data) return;
  wiki = readFileSync(join(data, 'hq-text-wikitext2', 'wikitext-2.valid.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 200 && !l.startsWith('='));
  wikiSentences = wiki.flatMap((p) => p.split(' . ').map((s) => `${s.trim()} .`)).filter((s) => s.split(' ').length >= 5);
  botchan = readFileSync(join(data, 'hq-text-gutenberg-botchan', 'botchan.part1.txt'), 'utf8')
    .replace(/\s+/g, ' ')
    .split(/(?<=[.!?])\s+/)
    .filter((s) => norm(s).length >= 15);
});

describe.skipIf(!data)('refinery decontaminate', () => {
  it('finds every planted item, exact, re-cased, re-punctuated and inside long pages, and names it', async () => {
    const items = botchan.slice(0, 40);
    const shortItems = ['the old lady kiyo loved me', 'a bamboo grass story of the town'];
    const mc = writeJsonl(join(dir, 'botchan-mc.jsonl'), items.slice(0, 20).map((q) => ({ question: q, choices: ['yes', 'no'], answer: 0 })));
    const lm = writeJsonl(join(dir, 'botchan-lm.jsonl'), items.slice(20).map((q) => ({ query: q, choices: ['a', 'b'], gold: 1 })));
    const plain = join(dir, 'short.txt');
    writeFileSync(plain, `${shortItems.join('\n')}\n`);
    const variants = [
      (s: string) => s,
      (s: string) => s.toUpperCase(),
      (s: string) => s.replace(/[\p{P}]/gu, '').split(' ').join(' , '),
      (s: string) => s.toLowerCase().replace(/,/g, ';').replace(/\./g, '!!'),
    ];
    const docs: { id: string; text: string }[] = wiki.slice(0, 300).map((text, i) => ({ id: `wiki-${i}`, text }));
    const expected = new Map<string, string>();
    const plant = (id: string, item: string, itemId: string, k: number) => {
      const long = k % 2 === 1;
      const before = long ? wiki.slice(300 + k * 20, 310 + k * 20).join('\n\n') : wiki[300 + k];
      const after = long ? wiki.slice(310 + k * 20, 320 + k * 20).join('\n\n') : wiki[600 + k];
      docs.push({ id, text: `${before} ${variants[k % variants.length](item)} ${after}` });
      expected.set(id, itemId);
    };
    items.forEach((item, k) => plant(`planted-${k}`, item, k < 20 ? `botchan-mc:${k + 1}` : `botchan-lm:${k - 19}`, k));
    shortItems.forEach((item, k) => plant(`planted-short-${k}`, item, `short:${k + 1}`, k));
    const input = importDocs('planted', docs);

    const out = join(dir, 'planted-out');
    const r = ok(['decontaminate', input, '-o', out, '--against', mc, '--against', `${lm},${plain}`]);
    expect(r.stderr).toMatch(/42 items of 3 suites/);
    expectAccounting(out);
    const excluded = await readDocs(layout.excludedDir(out));
    const kept = await readDocs(out);
    expect(new Set(excluded.map((d) => d.id))).toEqual(new Set(expected.keys()));
    for (const d of excluded) {
      expect(d.excluded_by).toBe('decontaminate');
      expect(String(d.reason)).toMatch(/^contaminated: \d+ matching 13-grams of /);
      expect(String(d.reason).split(/, | of /)).toContain(expected.get(String(d.id)));
      expect(d.decon_matches as number).toBeGreaterThan(0);
    }
    for (const d of kept) {
      expect(d.decon_matches).toBe(0);
      expect(d.decon_tasks).toBeNull();
    }

    // annotate keeps every document and says which suites matched.
    const ann = join(dir, 'planted-annotate');
    ok(['decontaminate', input, '-o', ann, '--against', `${mc},${lm},${plain}`, '--action', 'annotate']);
    const annotated = await readDocs(ann);
    expect(annotated).toHaveLength(docs.length);
    for (const d of annotated) {
      const want = expected.get(String(d.id));
      expect(d.decon_tasks).toBe(want ? want.split(':')[0] : null);
    }
  }, 120_000);

  it('never flags a text that shares fewer than n consecutive words with every item (property, random texts)', async () => {
    const items = botchan.slice(0, 200);
    const tasks: TaskItem[] = items.map((text, k) => ({ id: `b:${k + 1}`, suite: 0, text }));
    const exact = new NgramIndex(['b'], tasks, { n: 13, index: 'exact', bloomSize: 0, bloomHashes: 1 });
    const bloom = new NgramIndex(['b'], tasks, { n: 13, index: 'bloom', bloomSize: 1 << 22, bloomHashes: 8 });
    const grams = new Set(items.flatMap((s) => {
      const w = norm(s);
      return Array.from({ length: w.length - 12 }, (_, i) => w.slice(i, i + 13).join(' '));
    }));
    const shares = (text: string) => {
      const w = norm(text);
      for (let i = 0; i + 13 <= w.length; i++) if (grams.has(w.slice(i, i + 13).join(' '))) return true;
      return false;
    };
    const rng = new Random(22);
    const texts: { id: string; text: string }[] = [];
    for (let t = 0; t < 1000; t++) {
      // Runs of up to 12 consecutive words of items (re-cased, re-punctuated), between other real words.
      const parts: string[] = [];
      for (let p = rng.int(1, 12); p > 0; p--) {
        const w = items[rng.int(0, items.length - 1)].split(' ');
        const len = rng.int(1, Math.min(12, w.length));
        const at = rng.int(0, w.length - len);
        parts.push(w.slice(at, at + len).join(' '));
        const filler = wikiSentences[rng.int(0, wikiSentences.length - 1)].split(' ');
        parts.push(filler.slice(0, rng.int(1, 6)).join(' '));
      }
      const text = parts.join(rng.chance(0.5) ? ' ' : ', ');
      if (shares(text)) continue; // a filler word can extend a run into a real 13-gram: that text is not in the property
      texts.push({ id: `random-${t}`, text: rng.chance(0.5) ? text.toUpperCase() : text });
    }
    expect(texts.length).toBeGreaterThan(900);
    for (const { text } of texts) {
      expect(exact.matches(splitWords(text))).toEqual([]);
      expect(bloom.matches(splitWords(text))).toEqual([]);
    }
    // And through the CLI.
    const suite = join(dir, 'b.txt');
    writeFileSync(suite, `${items.join('\n')}\n`);
    const out = join(dir, 'random-out');
    ok(['decontaminate', importDocs('random', texts), '-o', out, '--against', suite]);
    expect(await readDocs(layout.excludedDir(out))).toEqual([]);
    expect(await readDocs(out)).toHaveLength(texts.length);
  }, 120_000);

  it('remove-spans cuts exactly the match and --window characters each side, and excludes past --max-cut', async () => {
    const item = botchan[5];
    const prefix = wiki.slice(0, 4).join('\n\n');
    const suffix = wiki.slice(4, 8).join('\n\n');
    const text = `${prefix} ${item.toUpperCase()} ${suffix}`;
    const s = prefix.length + 1;
    const e = s + item.length;
    const suite = writeJsonl(join(dir, 'one.jsonl'), [{ question: item, choices: ['a', 'b'], answer: 0 }]);
    const input = importDocs('spans', [
      { id: 'long', text },
      { id: 'short', text: `Intro. ${item} Outro.` },
    ]);
    for (const window of [0, 50, 200]) {
      const out = join(dir, `spans-${window}`);
      ok(['decontaminate', input, '-o', out, '--against', suite, '--action', 'remove-spans', '--window', String(window)]);
      const [doc] = (await readDocs(out)) as Doc[];
      expect(doc.id).toBe('long');
      expect(doc.text).toBe([text.slice(0, s - window), text.slice(e + window)].filter((p) => p.trim()).join('\n'));
      expect(doc.decon_chars_removed).toBe(e - s + 2 * window);
      const [gone] = await readDocs(layout.excludedDir(out));
      expect(gone.id).toBe('short');
      expect(String(gone.reason)).toMatch(/^contaminated: cutting \d+ of \d+ characters \(over --max-cut 0.5\) for one:1$/);
    }
  }, 120_000);

  it('remove-spans excludes a document the cuts would split into more than --max-pieces pieces (GPT-3: 10), with its own reason', async () => {
    const items = botchan.slice(100, 112);
    const suite = writeJsonl(join(dir, 'piece-items.jsonl'), items.map((q) => ({ question: q, choices: ['a', 'b'], answer: 0 })));
    // k items, each between two WikiText paragraphs longer than two windows: the cuts leave k + 1 pieces.
    const long = wiki.filter((p) => p.length > 600);
    const page = (k: number, from: number) => long.slice(from, from + k + 1).map((p, i) => (i < k ? `${p} ${items[i]}` : p)).join(' ');
    const input = importDocs('pieces', [
      { id: 'eleven-pieces', text: page(10, 20) },
      { id: 'ten-pieces', text: page(9, 40) },
    ]);
    const run = async (...extra: string[]) => {
      const out = join(dir, `pieces-out${extra.join('')}`);
      ok(['decontaminate', input, '-o', out, '--against', suite, '--action', 'remove-spans', '--max-cut', '0.9', ...extra]);
      expectAccounting(out);
      return { kept: (await readDocs(out)) as Doc[], gone: (await readDocs(layout.excludedDir(out))) as Doc[] };
    };
    const byDefault = await run();
    expect(byDefault.kept.map((d) => d.id)).toEqual(['ten-pieces']);
    expect(String(byDefault.kept[0].text).split('\n')).toHaveLength(10);
    expect(byDefault.gone.map((d) => [d.id, d.excluded_by, d.reason])).toEqual([['eleven-pieces', 'decontaminate', expect.stringMatching(/^contaminated-split: the cuts would leave 11 pieces \(over --max-pieces 10\) for piece-items:1, piece-items:2/)]]);
    const looser = await run('--max-pieces', '11');
    expect(looser.kept.map((d) => d.id).sort()).toEqual(['eleven-pieces', 'ten-pieces']);
    expect(looser.gone).toHaveLength(0);
  }, 120_000);

  it('Bloom and exact indexes agree on 10,000 documents', async () => {
    const rng = new Random(7);
    const items = [...botchan.slice(0, 600), ...wikiSentences.slice(0, 400).map((s) => s.split(' ').slice(0, rng.int(6, 30)).join(' '))];
    const books = writeJsonl(join(dir, 'books.jsonl'), items.slice(0, 600).map((q) => ({ question: q, choices: ['a', 'b'], answer: 0 })));
    const wikis = join(dir, 'wikis.txt');
    writeFileSync(wikis, `${items.slice(600).join('\n')}\n`);
    const docs: { id: string; text: string }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const parts = Array.from({ length: rng.int(2, 6) }, () => wikiSentences[rng.int(0, wikiSentences.length - 1)]);
      if (i % 40 === 0) parts.splice(1, 0, botchan[rng.int(0, 799)]);
      docs.push({ id: `d${i}`, text: parts.join(' ') });
    }
    const input = importDocs('tenk', docs);
    const run = async (index: string) => {
      const out = join(dir, `tenk-${index}`);
      const r = ok(['decontaminate', input, '-o', out, '--against', `${books},${wikis}`, '--index', index, '--action', 'annotate']);
      return { docs: await readDocs(out), log: r.stderr };
    };
    const exact = await run('exact');
    const bloom = await run('bloom');
    expect(bloom.log).toMatch(/false-positive rate <= \d/);
    expect(exact.docs).toHaveLength(10_000);
    const flagged = exact.docs.filter((d) => (d.decon_matches as number) > 0).length;
    expect(flagged).toBeGreaterThan(500);
    expect(flagged).toBeLessThan(10_000);
    expect(bloom.docs.map((d) => [d.id, d.decon_matches, d.decon_tasks])).toEqual(exact.docs.map((d) => [d.id, d.decon_matches, d.decon_tasks]));
  }, 180_000);

  it('resumes: a failed task reruns alone, the finished ones are kept', async () => {
    const suite = writeJsonl(join(dir, 'resume.jsonl'), botchan.slice(0, 5).map((q) => ({ question: q, choices: ['a', 'b'], answer: 0 })));
    const a = importDocs('resume-a', wiki.slice(0, 50).map((text, i) => ({ id: `a${i}`, text })));
    const b = importDocs('resume-b', wiki.slice(50, 100).map((text, i) => ({ id: `b${i}`, text: i === 3 ? `${text} ${botchan[2]}` : text })));
    const out = join(dir, 'resume-out');
    const args = ['decontaminate', a, b, '-o', out, '--against', suite, '--progress', 'off'];
    const failed = cli(args, { env: { REFINERY_FAIL_TASKS: '1' } });
    expect(failed.code).toBe(1);
    const again = cliOk(args);
    expect(again.stderr).toMatch(/index: already done/);
    expect(again.stderr).toMatch(/2 tasks; 1 to run/);
    expectAccounting(out);
    expect((await readDocs(layout.excludedDir(out))).map((d) => d.id)).toEqual(['b3']);
    expect(await readDocs(out)).toHaveLength(99);
  }, 120_000);

  it("report: each item's document count equals a brute-force search", async () => {
    const rng = new Random(3);
    const items = [...botchan.slice(0, 30), ...wikiSentences.filter((_, i) => i % 97 === 0).slice(0, 50).map((s) => s.split(' ').slice(0, rng.int(4, 25)).join(' '))];
    const suite = writeJsonl(join(dir, 'mixed.jsonl'), items.map((q) => ({ question: q, choices: ['a', 'b'], answer: 0 })));
    const docs = wiki.map((text, i) => ({ id: `w${i}`, text: i % 10 === 0 ? `${text} ${botchan[i % 30]}` : text }));
    const input = importDocs('report-in', docs);
    const file = join(dir, 'report.json');
    ok(['decontaminate', 'report', input, '-o', file, '--against', suite, '--workers', '2', '--max-part-size', '64KiB']);
    const report = JSON.parse(readFileSync(file, 'utf8')) as { documents: number; items: { id: string; documents: number }[] };
    expect(report.documents).toBe(docs.length);
    const normDocs = docs.map((d) => ` ${norm(d.text).join(' ')} `);
    const brute = items.map((item) => {
      const w = norm(item);
      const k = Math.min(13, w.length);
      const grams = Array.from({ length: w.length - k + 1 }, (_, i) => ` ${w.slice(i, i + k).join(' ')} `);
      return normDocs.filter((d) => grams.some((g) => d.includes(g))).length;
    });
    expect(report.items.map((x) => x.documents)).toEqual(brute);
    expect(report.items.map((x) => x.id)).toEqual(items.map((_, k) => `mixed:${k + 1}`));
    expect(brute.filter((b) => b > 0).length).toBeGreaterThan(40);
    // A rerun replaces its own report; a file it did not write, or a task file, is refused and left as it was.
    ok(['decontaminate', 'report', input, '-o', file, '--against', suite, '--workers', '2']);
    const mine = join(dir, 'notes.json');
    writeFileSync(mine, '{"thesis": true}\n');
    for (const target of [mine, suite]) {
      const before = readFileSync(target);
      const r = cli(['decontaminate', 'report', input, '-o', target, '--against', suite, '--progress', 'off']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/choose another path/);
      expect(readFileSync(target).equals(before)).toBe(true);
    }
  }, 240_000);
});

it.skipIf(data)('decontaminate tests', () => console.log(SHARED_SKIP_REASON));
