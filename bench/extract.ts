/**
 * Bench `extract`: pages/s and MB/s on one core for both engines in the same run, each in
 * its own process (so each phase's peak RSS is its own), with language identification as the
 * stage runs it; bare Readability + linkedom as the reference.
 *
 *   npm run bench -- extract [--pages 2000]
 *
 * Pages: the Article Extraction Benchmark and trafilatura's set from ../shared/data, repeated.
 */
import { load } from 'cheerio/slim';
import { Extractor, type Engine } from '../pipeline/extract/pool.js';
import { DEFAULT_EXTRACT } from '../pipeline/extract/readable.js';
import { identifyLanguage } from '../pipeline/extract/language.js';
import { bareReadability } from './extract-accuracy.js';
import { aebPages, trafilaturaPages } from './extraction-data.js';
import { arg, isolated, ratio, report, type PhaseFn } from './harness.js';
import { referenceExtract } from './reference-extractors.js';

export async function main(args: string[]): Promise<void> {
  const target = Number(arg(args, 'pages', '2000'));
  const base = [...aebPages(), ...trafilaturaPages()].map((p) => p.html);
  const pages: string[] = [];
  while (pages.length < target) pages.push(...base);
  pages.length = target;
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p), 0);
  if (arg(args, 'phase', '') === '') console.log(`extract: ${pages.length} pages, ${(bytes / 1e6).toFixed(0)} MB of HTML (AEB + trafilatura eval, repeated), one core each`);

  const engine = (name: Engine, lang: boolean): PhaseFn => async () => {
    const extractor = new Extractor(DEFAULT_EXTRACT, name);
    for (const html of pages) {
      const r = await extractor.extract(html, null, 10_000);
      if (lang && r.ok) await identifyLanguage(r.result.text);
    }
    await extractor.close();
    return { bytes, docs: pages.length };
  };
  // The same heap bound as the Readability thread, so every phase collects garbage alike (see pool.ts).
  const results = await isolated('extract', args, {
    'bare Readability + linkedom (reference)': () => {
      for (const html of pages) bareReadability(html);
      return { bytes, docs: pages.length };
    },
    // cheerio (on htmlparser2) only parses and reads the body's text: no article finding, no structure.
    'cheerio/slim, body text (no article finding)': () => {
      for (const html of pages) load(html)('body').text();
      return { bytes, docs: pages.length };
    },
    'readability engine + language ID': engine('readability', true),
    'fast engine + language ID': engine('fast', true),
    'fast engine alone': engine('fast', false),
    'language ID alone (on fast engine texts)': async () => {
      const extractor = new Extractor(DEFAULT_EXTRACT, 'fast');
      const texts: string[] = [];
      for (const html of pages) {
        const r = await extractor.extract(html, null, 10_000);
        if (r.ok) texts.push(r.result.text);
      }
      const started = performance.now();
      for (const t of texts) await identifyLanguage(t);
      const seconds = (performance.now() - started) / 1000;
      console.log(`  language ID: ${(texts.length / seconds).toFixed(0)} texts/s`);
      return { bytes, docs: pages.length };
    },
  }, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=512`.trim() });
  if (!results) return;
  report(results.slice(0, 5));
  const [bare, cheerio, readability, fast, fastAlone] = results;
  console.log(`fast engine / readability engine (both with language ID): ${ratio(fast, readability)}x (target >= 6)`);
  console.log(`fast engine / bare Readability + linkedom: ${ratio(fastAlone, bare)}x; / cheerio body text: ${ratio(fastAlone, cheerio)}x`);
  // The moonshot's reference: resiliparse (C++, DCLM's extractor) on the same pages, timed by itself.
  const resiliparse = referenceExtract('resiliparse', pages);
  if ('missing' in resiliparse) console.log(`(no resiliparse reference: ${resiliparse.missing})`);
  else {
    const perSecond = pages.length / resiliparse.seconds;
    console.log(`resiliparse (main_content=True, Python): ${perSecond.toFixed(0)} pages/s; fast engine + language ID = ${(fast.docs / fast.seconds / perSecond).toFixed(2)}x of it, alone ${(fastAlone.docs / fastAlone.seconds / perSecond).toFixed(2)}x`);
  }
}
