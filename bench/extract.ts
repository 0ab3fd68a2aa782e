/**
 * Bench `extract`: pages/s and MB/s on one core, our extractor against a bare Readability +
 * linkedom loop over the same pages in the same run (each in its own process).
 *
 *   npm run bench -- extract [--pages 2000]
 *
 * Pages: the Article Extraction Benchmark and trafilatura's set from ../shared/data, repeated.
 */
import { Extractor } from '../pipeline/extract/pool.js';
import { DEFAULT_EXTRACT } from '../pipeline/extract/readable.js';
import { identifyLanguage } from '../pipeline/extract/language.js';
import { bareReadability } from './extract-accuracy.js';
import { aebPages, trafilaturaPages } from './extraction-data.js';
import { arg, isolated, ratio, report } from './harness.js';

export async function main(args: string[]): Promise<void> {
  const target = Number(arg(args, 'pages', '2000'));
  const base = [...aebPages(), ...trafilaturaPages()].map((p) => p.html);
  const pages: string[] = [];
  while (pages.length < target) pages.push(...base);
  pages.length = target;
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p), 0);
  if (arg(args, 'phase', '') === '') console.log(`extract: ${pages.length} pages, ${(bytes / 1e6).toFixed(0)} MB of HTML (AEB + trafilatura eval, repeated), one core each`);

  // The same heap bound as the extraction thread, so both sides collect garbage alike (see pool.ts).
  const results = await isolated('extract', args, {
    'bare Readability + linkedom (reference)': () => {
      for (const html of pages) bareReadability(html);
      return { bytes, docs: pages.length };
    },
    'refinery extractor (thread, pruning, fallback)': async () => {
      const extractor = new Extractor(DEFAULT_EXTRACT);
      for (const html of pages) await extractor.extract(html, null, 10_000);
      await extractor.close();
      return { bytes, docs: pages.length };
    },
    'refinery extractor + language ID': async () => {
      const extractor = new Extractor(DEFAULT_EXTRACT);
      for (const html of pages) {
        const r = await extractor.extract(html, null, 10_000);
        if (r.ok) await identifyLanguage(r.result.text);
      }
      await extractor.close();
      return { bytes, docs: pages.length };
    },
  }, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=512`.trim() });
  if (!results) return;
  report(results);
  const overhead = (1 / Number(ratio(results[1], results[0])) - 1) * 100;
  console.log(`overhead of the refinery extractor over bare Readability: ${overhead.toFixed(1)}% (target <= 15%)`);
}
