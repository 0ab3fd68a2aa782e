/**
 * The text view of a document in a language other than English: the same counts as
 * `TextView` (text-view.ts), over the language's words (pipeline/text/words.ts: ICU's
 * segmenter for Chinese, Japanese, Thai..., a Unicode tokenizer for spaced scripts), and the
 * line and sentence tests C4 needs with every script's sentence terminators ("。", "।", "؟").
 *
 * English documents keep `TextView` and its NLTK-like tokenizer, so English verdicts do not
 * move; this module only adds.
 */
import { needsSegmenter, words } from '../text/words.js';
import { TextView, hasLetter, isSymbolWord, WordIds, type WordStats } from './text-view.js';

/** Quotes and brackets that may close a sentence after its terminator. */
const CLOSERS = `"'”’»)\\]」』）》〉】`;
/** A line ending a sentence in any script (Unicode Sentence_Terminal: . ! ? 。 ！ ？ । ۔ ؟ ...), not with "...". */
const TERMINATED = new RegExp(`\\p{Sentence_Terminal}[${CLOSERS}]*$`, 'u');
const SPACED_BOUNDARY = new RegExp(`\\p{Sentence_Terminal}+[${CLOSERS}]*\\s+`, 'gu');
const UNSPACED_BOUNDARY = new RegExp(`\\p{Sentence_Terminal}+[${CLOSERS}]*\\s*`, 'gu');

/**
 * Stop words match case-insensitively, with either apostrophe ("l’" is "l'"), composed or not
 * (Vietnamese text often comes with its tone marks as separate combining characters).
 */
const stopKey = (w: string) => {
  const lower = w.toLowerCase().replace(/[’ʼ]/g, "'");
  return /[\u0300-\u036f]/.test(lower) ? lower.normalize('NFC') : lower;
};

export class LanguageTextView extends TextView {
  private langStats?: WordStats;
  private readonly stopSet: ReadonlySet<string>;
  /** Words come from ICU's segmenter (a script without spaces). */
  readonly segmented: boolean;

  constructor(
    text: string,
    readonly stopList: readonly string[],
    readonly lang: string,
  ) {
    super(text, stopList);
    this.stopSet = new Set(stopList.map(stopKey));
    this.segmented = needsSegmenter(text, lang);
  }

  /** The same view over another text (C4's cleaned text). */
  derive(text: string): LanguageTextView {
    return new LanguageTextView(text, this.stopList, this.lang);
  }

  /** The language's words of any piece of text (a C4 line). */
  wordsOf(text: string): Iterable<string> {
    return words(text, this.lang);
  }

  override get words(): WordStats {
    return (this.langStats ??= this.scanWords(false).stats);
  }
  override wordIds(): WordIds {
    const { stats, ids } = this.scanWords(true);
    this.langStats = stats;
    return ids!;
  }
  override stopWordCount(stopWords: readonly string[]): number {
    const stop = new Set(stopWords.map(stopKey));
    if (stop.size === this.stopSet.size && [...stop].every((w) => this.stopSet.has(w))) return this.words.stopWords;
    let n = 0;
    for (const w of this.wordsOf(this.text)) if (stop.has(stopKey(w))) n++;
    return n;
  }

  /** Whether `line` has at least `n` words that are not only marks (stops counting at `n`). */
  hasWords(line: string, n: number): boolean {
    if (n <= 0) return true;
    let seen = 0;
    for (const w of this.wordsOf(line)) if (!isSymbolWord(w) && ++seen >= n) return true;
    return false;
  }
  /** Whether `line` has a word longer than `max` characters (none can be, in a shorter line). */
  hasWordLongerThan(line: string, max: number): boolean {
    if (line.length <= max) return false;
    for (const w of this.wordsOf(line)) if (w.length > max) return true;
    return false;
  }

  /** C4's terminal-punctuation test, in any script. */
  endsSentence(line: string): boolean {
    return TERMINATED.test(line) && !line.endsWith('...');
  }
  /** Sentences of a line: breaks after sentence terminators (and, in spaced scripts, a space). */
  sentenceCount(line: string): number {
    const boundary = this.segmented ? UNSPACED_BOUNDARY : SPACED_BOUNDARY;
    let n = 0;
    let start = 0;
    boundary.lastIndex = 0;
    for (let m = boundary.exec(line); m; m = boundary.exec(line)) {
      if (line.slice(start, m.index).trim()) n++;
      start = m.index + m[0].length;
    }
    if (line.slice(start).trim()) n++;
    return n;
  }

  private scanWords(withIds: boolean): { stats: WordStats; ids?: WordIds } {
    const stats: WordStats = { count: 0, symbols: 0, contentChars: 0, letters: 0, stopWords: 0 };
    // Words are at most as many as characters; a CJK text has about one per 1.5.
    const ids = withIds ? new WordIds(this.text.length >> 1) : undefined;
    for (const w of this.wordsOf(this.text)) {
      stats.count++;
      if (isSymbolWord(w)) stats.symbols++;
      else stats.contentChars += w.length;
      if (hasLetter(w)) stats.letters++;
      if (this.stopSet.has(stopKey(w))) stats.stopWords++;
      ids?.add(w);
    }
    return { stats, ids: ids?.done() };
  }
}
