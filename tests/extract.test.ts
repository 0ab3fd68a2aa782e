/** Extraction: structure, fallbacks, limits, language, blocklists; then the stage on the sample web. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { identifyLanguage } from '../pipeline/extract/language.js';
import { extractWith } from '../pipeline/extract/page.js';
import { ENGINES } from '../pipeline/extract/pool.js';
import { domText, fallbackText } from '../pipeline/extract/readable.js';
import { aebMetrics, shingleMatch, snippetsRight } from '../pipeline/extract/score.js';
import { WarcWriter } from '../pipeline/warc/writer.js';
import { readLines } from './helpers/cc-server.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, sharedData, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

const article = (body: string, extra = '') =>
  `<!DOCTYPE html><html><head><title>Test page</title><script>var x = "script text";</script><style>.a{}</style></head><body>
   <header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
   <main><article><h1>The headline</h1>${body}</article></main>
   <footer>Copyright 2024 Example Corp. All rights reserved.</footer>${extra}</body></html>`;

const paragraphs = Array.from({ length: 6 }, (_, i) => `<p>Paragraph ${i} has   several   words of real content, enough for Readability to see an article here, sentence after sentence.</p>`).join('\n');

describe.each(ENGINES)('the %s engine', (engine) => {
  const extractHtml = (html: string, url: string | null) => extractWith(engine, html, url);
  it('keeps block structure as lines, collapses whitespace and keeps the title', () => {
    const html = article(`${paragraphs}<h2>A section</h2><ul><li>first item of the list</li><li>second item</li></ul><table><tr><td>cell a</td><td>cell b</td></tr><tr><td>cell c</td><td>cell d</td></tr></table><pre>code  line 1\n  code line 2</pre>`);
    const r = extractHtml(html, null);
    expect(r.extractor).toBe(engine);
    expect(r.title).toBe('Test page');
    const lines = r.text.split('\n');
    expect(lines).toContain('Paragraph 0 has several words of real content, enough for Readability to see an article here, sentence after sentence.');
    expect(lines).toContain('A section');
    expect(lines).toContain('first item of the list');
    expect(lines).toContain('cell a cell b');
    expect(lines).toContain('  code line 2');
    expect(r.text).not.toMatch(/script text|Copyright 2024|Home/);
  });

  it('prunes captions, bylines and link lists that Readability keeps', () => {
    const html = article(`<p class="byline">By Jane Doe, Staff Writer</p>${paragraphs}<figure><img src="x.jpg"><figcaption>A caption under the photo</figcaption></figure><div class="related-stories"><a href="/1">Another story you may like</a></div><ul><li><a href="/a">Link one</a></li><li><a href="/b">Link two</a></li><li><a href="/c">Link three</a></li></ul>`);
    const r = extractHtml(html, null);
    expect(r.text).toContain('Paragraph 5 has several words');
    expect(r.text).not.toMatch(/Jane Doe|caption under|Another story|Link one/);
  });

  it('falls back to a streaming extraction when there is no article, dropping furniture', () => {
    const html = '<html><head><title>Tiny</title></head><body><nav>Menu Menu Menu</nav><div>Just one short line.</div><form>Search here</form><footer>Footer text</footer></body></html>';
    const r = extractHtml(html, null);
    expect(r).toMatchObject({ text: 'Just one short line.', extractor: 'fallback', title: 'Tiny' });
    expect(fallbackText(html)).toEqual({ title: 'Tiny', text: 'Just one short line.' });
  });

  it('reads pages without <html> or <body>', () => {
    const r = extractHtml(paragraphs, null);
    expect(r.text.split('\n')).toHaveLength(6);
  });

  it('handles 100k nested elements without recursion, and deep pages without Readability', () => {
    const depth = 100_000;
    const html = `<html><body>${'<div>'.repeat(depth)}deep text${'</div>'.repeat(depth)}<p>${'words '.repeat(60)}</p></body></html>`;
    const r = extractHtml(html, null);
    expect(r.text).toContain('deep text');
    expect(r.extractor).toBe('fallback');
    const deep = `<html><body>${'<div>'.repeat(500)}${paragraphs}${'</div>'.repeat(500)}</body></html>`;
    expect(extractHtml(deep, null)).toMatchObject({ extractor: 'fallback', text: expect.stringContaining('Paragraph 5') });
    expect(domText({ nodeType: 3, nodeName: '#text', textContent: 'x', childNodes: [] })).toBe('x');
  }, 60_000);
});

describe('language identification (fastText lid.176)', () => {
  it('names the language with a probability', async () => {
    expect(await identifyLanguage('The committee approved the budget after a long debate about schools and roads.')).toMatchObject({ lang: 'en' });
    expect((await identifyLanguage('Der Ausschuss hat den Haushalt nach einer langen Debatte über Schulen gebilligt.'))?.lang).toBe('de');
    expect((await identifyLanguage('委員会は学校と道路についての長い議論の後で予算を承認した。'))?.lang).toBe('ja');
    expect(await identifyLanguage('   ')).toBeNull();
  });
});

describe('scoring', () => {
  it('follows the benchmarks\' definitions', () => {
    expect(aebMetrics([shingleMatch('one two three four five', 'one two three four five')])).toEqual({ precision: 1, recall: 1, f1: 1 });
    const half = aebMetrics([shingleMatch('a b c d e f g h', 'a b c d')]);
    expect(half.precision).toBe(1);
    expect(half.recall).toBeCloseTo(0.2, 5);
    expect(snippetsRight('Main text here.\nMore text.', ['Main text', 'More'], ['Cookie'])).toBe(true);
    expect(snippetsRight('Main text here. Cookie banner', ['Main text'], ['Cookie'])).toBe(false);
  });
});

describe('500,000 unclosed <div>s (issue 24, item 8)', () => {
  const web = join(dir, 'divs-web');
  const raw = join(dir, 'divs-raw');
  beforeAll(() => {
    mkdirSync(web);
    const warc = new WarcWriter(join(web, 'divs-00000.warc.gz'));
    const html = `<html><head><title>Divs</title></head><body>${'<div>'.repeat(500_000)}${paragraphs}</body></html>`;
    const body = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}`);
    warc.write({ type: 'response', headers: { 'WARC-Target-URI': 'https://divs.example/', 'WARC-Date': '2024-05-01T00:00:00Z', 'WARC-Record-ID': '<urn:uuid:00000000-0000-4000-8000-000000000001>', 'Content-Type': 'application/http; msgtype=response' }, content: body });
    warc.close();
    cliOk(['ingest', web, '-o', raw, '--progress', 'off']);
  }, 300_000);

  it('the fast engine extracts the page within the default time budget', async () => {
    const out = join(dir, 'divs-fast');
    cliOk(['extract', raw, '-o', out, '--progress', 'off']);
    const totals = await expectAccounting(out);
    expect(totals.docs_in).toBe(1);
    expect(totals.docs_excluded, JSON.stringify(totals.steps)).toBe(0);
    const [doc] = await readDocs(out);
    expect(doc.text).toContain('Paragraph 5 has several words');
  }, 120_000);

  it('the readability engine extracts it too, or stops it and excludes it as extraction-timeout', async () => {
    const out = join(dir, 'divs-readability');
    cliOk(['extract', raw, '-o', out, '--extractor', 'readability', '--progress', 'off']);
    const totals = await expectAccounting(out);
    expect(totals.docs_in).toBe(1);
    if (totals.docs_kept === 1) expect((await readDocs(out))[0].text).toContain('Paragraph 5 has several words');
    else expect(totals.steps.find((s) => s.name === 'extract')?.reasons).toEqual({ 'extraction-timeout': 1 });
  }, 300_000);
});

describe('refinery extract on the sample web', () => {
  const web = join(dir, 'web');
  const raw = join(dir, 'raw');
  let pages: Map<string, PageTruth>;

  beforeAll(() => {
    expect(cli(['sample-web', '-o', web, '--pages', '400', '--pages-per-file', '200', '--seed', '5']).code).toBe(0);
    // Two hard pages join the web: 20 MB of HTML, and 100k nested elements.
    const hard = new WarcWriter(join(web, 'hard-00000.warc.gz'));
    const response = (url: string, html: string) => {
      const body = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}`);
      hard.write({ type: 'response', headers: { 'WARC-Target-URI': url, 'WARC-Date': '2024-05-01T00:00:00Z', 'WARC-Record-ID': `<urn:uuid:00000000-0000-4000-8000-00000000000${url.length % 10}>`, 'Content-Type': 'application/http; msgtype=response' }, content: body });
    };
    response('https://huge.example/page', `<html><body>${'<p>filler paragraph text that goes on and on</p>'.repeat(450_000)}</body></html>`);
    response('https://nested.example/p', `<html><body>${'<div>'.repeat(100_000)}deep${'</div>'.repeat(100_000)}${paragraphs}</body></html>`);
    hard.close();
    expect(cli(['ingest', web, '-o', raw, '--max-record-size', '64MiB']).code).toBe(0);
    pages = new Map(readLines(join(web, 'pages.jsonl')).map((l) => JSON.parse(l) as PageTruth).map((p) => [p.record_id, p]));
  }, 120_000);

  it.each(ENGINES)('extracts the gold text of every page, in every charset, and names its language (%s engine)', async (engine) => {
    const out = join(dir, `text-${engine}`);
    const r = cli(['extract', raw, '-o', out, '--time-budget', '20', '--extractor', engine]);
    expect(r.code, r.stderr).toBe(0);
    const totals = await expectAccounting(out);
    expect(totals.steps.find((s) => s.name === 'html-size')?.reasons).toEqual({ 'html-too-large': 1 });
    const docs = await readDocs(out);
    const nested = docs.find((d) => d.url === 'https://nested.example/p');
    if (engine === 'fast' || nested) expect(nested?.text).toContain('Paragraph 5');
    else {
      // Readability on 100,000 nested elements can overrun the budget on a loaded machine: then it is stopped, with its reason.
      const stopped = (await readDocs(join(out, '_excluded'))).find((d) => d.url === 'https://nested.example/p');
      expect(stopped?.reason).toMatch(/^extraction-timeout/);
    }
    const scores = [];
    const tokens = [];
    let langRight = 0;
    let legacyCharsets = 0;
    for (const doc of docs) {
      const page = pages.get(doc.id);
      if (!page) continue;
      const gold = (page.text as string).split('\n\n').slice(1).join('\n'); // the title is the first paragraph
      scores.push(shingleMatch(gold, doc.text as string));
      tokens.push(shingleMatch(gold, doc.text as string, 1));
      if (doc.lang === page.lang) langRight++;
      if (page.charset !== 'utf-8') legacyCharsets++;
      expect(doc.html).toBeUndefined();
      expect(doc.title as string).toContain(page.title as string); // Readability may keep the site name
      if (doc.extractor !== 'source') expect(['fallback', engine]).toContain(doc.extractor);
    }
    expect(legacyCharsets).toBeGreaterThan(5);
    expect(aebMetrics(scores).f1).toBeGreaterThan(0.98); // 4-word shingles
    expect(aebMetrics(tokens).f1).toBeGreaterThan(0.99); // words
    expect(langRight / scores.length).toBeGreaterThan(0.98);
  }, 60_000);

  it.each(ENGINES)('stops a page over the time budget and excludes it with its reason (%s engine)', async (engine) => {
    const out = join(dir, `slow-${engine}`);
    const r = cli(['extract', raw, '-o', out, '--time-budget', '0.001', '--max-html-size', '64MiB', '--extractor', engine]);
    expect(r.code, r.stderr).toBe(0);
    const totals = await expectAccounting(out);
    expect(totals.steps.find((s) => s.name === 'extract')?.reasons['extraction-timeout']).toBeGreaterThan(0);
  }, 60_000);

  it('filters by language and by URL blocklists', async () => {
    const domains = join(dir, 'domains.txt');
    const substrings = join(dir, 'urls.txt');
    writeFileSync(domains, '# spam\ntop-casino-bonus.example\n');
    writeFileSync(substrings, '/opinion/\n');
    const out = join(dir, 'filtered');
    const r = cli(['extract', raw, '-o', out, '--languages', 'en', '--min-lang-score', '0.65', '--blocklist-domains', domains, '--blocklist-urls', substrings]);
    expect(r.code, r.stderr).toBe(0);
    const totals = await expectAccounting(out);
    const docs = await readDocs(out);
    expect(docs.every((d) => d.lang === 'en' && (d.lang_score as number) >= 0.65)).toBe(true);
    expect(docs.some((d) => (d.url as string).includes('top-casino-bonus.example') || (d.url as string).includes('/opinion/'))).toBe(false);
    const blocked = totals.steps.find((s) => s.name === 'url-blocklist');
    expect(blocked?.dropped).toBe([...pages.values()].filter((p) => p.status === 200 && p.content_type === 'text/html' && (p.site === 'top-casino-bonus.example' || p.url.includes('/opinion/'))).length);
    expect(totals.steps.find((s) => s.name === 'language')?.reasons.language).toBeGreaterThan(5);
  }, 60_000);

  it('extract-page prints one page', () => {
    const file = join(dir, 'page.html');
    writeFileSync(file, article(paragraphs));
    const r = cli(['extract-page', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'Test page', lang: 'en', extractor: 'fast', charset: 'utf-8' });
    expect(JSON.parse(cliOk(['extract-page', file, '--json', '--extractor', 'readability']).stdout)).toMatchObject({ extractor: 'readability' });
    expect(cli(['extract-page', join(dir, 'missing.html')]).stderr).toMatch(/missing\.html: cannot read/);
  }, 60_000);

  it('extract-page --diff shows both engines side by side', () => {
    const file = join(dir, 'diff.html');
    writeFileSync(file, article(`${paragraphs}<p>Only a short closing line.</p>`));
    const r = cliOk(['extract-page', file, '--diff', '--width', '40']);
    const lines = r.stdout.split('\n');
    expect(lines.some((l) => /^fast\s+readability$/.test(l))).toBe(true);
    expect(lines.some((l) => /^Paragraph 0 has several words of real co │ Paragraph 0 has several words of real co$/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/\d+ lines \/ \d+ lines, \d+ in both/);
    expect(cli(['extract-page', file, '--diff', '--width', 'x']).code).toBe(2);
  }, 60_000);
});

describe.skipIf(!sharedData())('extraction accuracy on the Article Extraction Benchmark (../shared/data)', () => {
  it('both engines beat bare Readability and reach F1 0.96', async () => {
    const { aebPages } = await import('../bench/extraction-data.js');
    const { bareReadability } = await import('../bench/extract-accuracy.js');
    const pages = aebPages(sharedData() as string);
    expect(pages).toHaveLength(91);
    const bare = aebMetrics(pages.map((p) => shingleMatch(p.truth, bareReadability(p.html))));
    expect(bare.f1).toBeCloseTo(0.95, 2); // the published readability.js score on these pages
    for (const engine of ENGINES) {
      const ours = aebMetrics(pages.map((p) => shingleMatch(p.truth, extractWith(engine, p.html, p.url).text)));
      expect(ours.f1, engine).toBeGreaterThanOrEqual(0.96);
      expect(ours.f1, engine).toBeGreaterThan(bare.f1);
    }
  }, 120_000);
});
