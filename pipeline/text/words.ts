/**
 * Words of any language, for the stages that count or compare words (quality, dedup).
 *
 * Two tokenizers, picked by the language (or, without one, by the script of the text):
 * - scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Khmer,
 *   Burmese): `Intl.Segmenter` with word granularity, i.e. Node's ICU dictionary
 *   segmentation;
 * - every spaced script (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari and the other
 *   Indic scripts, Hangul, Tibetan's tsheg-separated syllables, ...): one Unicode regular expression, 2-3x faster than the
 *   segmenter on the same text (README, "Every language": docs/s per script).
 * Either way punctuation marks and symbols are words of their own, as in the English
 * tokenizer of the quality rules (text-view.ts), so the rules' ratios mean the same thing.
 */

/** Languages (ISO 639-1 / 639-3 as fastText lid.176 gives them) written without spaces between words. */
export const UNSPACED_LANGUAGES = new Set(['zh', 'ja', 'th', 'lo', 'km', 'my', 'yue', 'wuu', 'cmn']);

/**
 * A character of a script written without spaces. (Tibetan separates syllables with a tsheg,
 * which the spaced tokenizer splits on; ICU has no Tibetan dictionary.)
 */
export const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** The primary subtag, lower case: "pt-BR" -> "pt", "zh_Hant" -> "zh". */
export const primaryLanguage = (lang: string) => lang.toLowerCase().split(/[-_]/)[0];

/** Whether words of `text` in `lang` (null: not known) come from the segmenter. */
export function needsSegmenter(text: string, lang: string | null): boolean {
  if (lang) return UNSPACED_LANGUAGES.has(primaryLanguage(lang));
  return UNSPACED_SCRIPT.test(text);
}

/** The segmenter's locale for a text of no known language: Japanese when it has kana, else by its first unspaced character. */
function guessLocale(text: string): string {
  if (KANA.test(text)) return 'ja';
  const m = UNSPACED_SCRIPT.exec(text);
  if (!m) return 'und';
  if (/\p{Script=Thai}/u.test(m[0])) return 'th';
  if (/\p{Script=Lao}/u.test(m[0])) return 'lo';
  if (/\p{Script=Khmer}/u.test(m[0])) return 'km';
  if (/\p{Script=Myanmar}/u.test(m[0])) return 'my';
  return 'zh';
}

const segmenters = new Map<string, Intl.Segmenter>();
function segmenter(locale: string): Intl.Segmenter {
  let s = segmenters.get(locale);
  if (!s) {
    s = new Intl.Segmenter(locale === 'cmn' ? 'zh' : locale, { granularity: 'word' });
    segmenters.set(locale, s);
  }
  return s;
}

const SPACE_ONLY = /^\s+$/u;

/** Words by ICU's dictionary segmentation: word-like segments and single marks; spaces dropped. */
export function* segmentedWords(text: string, lang: string | null): Generator<string> {
  const locale = lang ? primaryLanguage(lang) : guessLocale(text);
  for (const s of segmenter(locale).segment(text)) if (s.isWordLike || !SPACE_ONLY.test(s.segment)) yield s.segment;
}

/**
 * Words of spaced scripts: letters with their combining marks (Devanagari vowel signs, Arabic
 * harakat) and inner hyphens ("Jean-Paul"); an apostrophe ends a word ("l'homme" is "l'" and
 * "homme", as FineWeb-2's French and Italian stop words "l'", "d'" expect; in the orthographies
 * where it writes a glottal stop, "ya'm̃cha'" stays letters); numbers with their separators;
 * every other mark or symbol alone ("..." and "--" runs stay whole).
 */
export const SPACED_WORD = /\p{N}+(?:[.,:/-]\p{N}+)*|[\p{L}\p{M}][\p{L}\p{M}\p{N}\u200c\u200d]*(?:[-‐‑][\p{L}\p{M}\p{N}\u200c\u200d]+)*['’ʼ]*|\.{2,}|-{2,}|[^\s\p{L}\p{M}\p{N}]/gu;

export function* spacedWords(text: string): Generator<string> {
  for (const m of text.matchAll(SPACED_WORD)) yield m[0];
}

/** The words of `text` in `lang` (null: chosen by the script). */
export function words(text: string, lang: string | null): Iterable<string> {
  return needsSegmenter(text, lang) ? segmentedWords(text, lang) : spacedWords(text);
}

/** How many words `text` has (see `words`). */
export function countWords(text: string, lang: string | null): number {
  let n = 0;
  for (const _ of words(text, lang)) n++;
  return n;
}
