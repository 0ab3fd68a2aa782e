/**
 * Bench `extract-accuracy`: our extractor against gold, next to bare Readability (the
 * benchmark's own readability.js setup: textContent, no fallback, no pruning) in the same run.
 *
 *   npm run bench -- extract-accuracy
 *
 * - Article Extraction Benchmark (91 pages): shingle precision / recall / F1, as its evaluate.py.
 * - Trafilatura's evaluation set (495 pages, mostly German): share of pages with every "with"
 *   snippet and no "without" snippet.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { extractHtml } from '../pipeline/extract/readable.js';
import { aebMetrics, shingleMatch, snippetsRight } from '../pipeline/extract/score.js';
import { aebPages, trafilaturaPages } from './extraction-data.js';

export function bareReadability(html: string): string {
  try {
    const { document } = parseHTML(html);
    return new Readability(document as never).parse()?.textContent ?? '';
  } catch {
    return '';
  }
}

const f = (x: number) => x.toFixed(3);

export async function main(): Promise<void> {
  const aeb = aebPages();
  const ours = aeb.map((p) => shingleMatch(p.truth, extractHtml(p.html, p.url).text));
  const bare = aeb.map((p) => shingleMatch(p.truth, bareReadability(p.html)));
  const o = aebMetrics(ours);
  const b = aebMetrics(bare);
  console.log(`Article Extraction Benchmark (${aeb.length} pages, shingle metrics as its evaluate.py)`);
  console.log(`  refinery extract       precision ${f(o.precision)}  recall ${f(o.recall)}  F1 ${f(o.f1)}`);
  console.log(`  bare Readability       precision ${f(b.precision)}  recall ${f(b.recall)}  F1 ${f(b.f1)}`);
  console.log('  published on these pages: readability.js 0.950, trafilatura 0.963, Rust trafilatura 0.969, best commercial 0.975');

  const traf = trafilaturaPages();
  const oursRight = traf.filter((p) => snippetsRight(extractHtml(p.html, p.url).text, p.with, p.without)).length;
  const bareRight = traf.filter((p) => snippetsRight(bareReadability(p.html), p.with, p.without)).length;
  console.log(`Trafilatura evaluation (${traf.length} pages): all "with" and no "without" snippets`);
  console.log(`  refinery extract       ${f(oursRight / traf.length)} (${oursRight} pages)`);
  console.log(`  bare Readability       ${f(bareRight / traf.length)} (${bareRight} pages)`);
}
