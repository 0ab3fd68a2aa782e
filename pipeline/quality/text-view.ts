/**
 * One document's text as the quality rules look at it: words, lines, paragraphs and
 * sentences, each computed once and only when a rule asks.
 *
 * Words follow the NLTK/spaCy tokenizers that datatrove's English rules count with, closely
 * enough for their ratios: words keep inner hyphens and apostrophes ("well-known", "don't"),
 * numbers their separators ("3.14", "13:10"), abbreviations and initialisms their periods
 * ("Mr.", "U.S."); every other punctuation mark or symbol is a word of its own, except "..."
 * and "--" runs, which stay whole.
 */
import { hashString } from '../core/hash.js';

const SYMBOL_ONLY = /^[\p{P}\p{S}]+$/u;
const HAS_LETTER = /\p{L}/u;
/** Python's str.splitlines() boundaries. */
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

export const isSymbolWord = (w: string) => SYMBOL_ONLY.test(w);
export const hasLetter = (w: string) => HAS_LETTER.test(w);

/** Abbreviations after which a period does not end a sentence (Punkt's English list, in part). */
const ABBREVIATIONS = new Set(
  'mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al fig figs no nos vol vols pp ed eds inc ltd co corp dept univ gen col lt sgt capt rev hon gov sen rep jan feb mar apr jun jul aug sep sept oct nov dec approx est u.s u.k a.m p.m'.split(' '),
);
const escape = (w: string) => w.replace(/\./g, '\\.');
const ABBREVIATED = [...ABBREVIATIONS]
  .sort((a, b) => b.length - a.length).flatMap((a) => [a, a[0].toUpperCase() + a.slice(1)]).map(escape).join('|');
const WORD = new RegExp(
  [
    `(?:${ABBREVIATED})\\.(?![\\p{L}\\p{N}])`, // "Mr.", "e.g.", "Gov."
    '(?:\\p{L}\\.){2,}', // initialisms: "U.S.A."
    '\\p{N}+(?:[.,:/-]\\p{N}+)*', // numbers, dates, times: "3.14", "1,000", "13:10", "2024-05-10"
    "[\\p{L}\\p{M}][\\p{L}\\p{M}\\p{N}]*(?:['’-][\\p{L}\\p{M}\\p{N}]+)*", // words: "well-known", "don't"
    '\\.{2,}|-{2,}', // "..." and "--"
    '[^\\s\\p{L}\\p{M}\\p{N}]', // any other mark or symbol
  ].join('|'),
  'gu',
);

export function tokenize(text: string): string[] {
  return text.match(WORD) ?? [];
}

/**
 * Sentences, Punkt-style: a break after ".", "!", "?" or "…" (with closing quotes or
 * brackets) and whitespace, unless the period ends an abbreviation or an initial, or the
 * next word starts in lower case.
 */
export function sentences(text: string): string[] {
  const out: string[] = [];
  const boundary = /[.!?…]+["'”’)\]]*\s+/g;
  let start = 0;
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    const next = text.charAt(end);
    if (next && /\p{Ll}/u.test(next)) continue;
    if (m[0].startsWith('.') && !m[0].startsWith('..')) {
      const before = /([\p{L}.]+)$/u.exec(text.slice(start, m.index))?.[1] ?? '';
      if (ABBREVIATIONS.has(before.toLowerCase()) || /^\p{Lu}$/u.test(before)) continue;
    }
    const piece = text.slice(start, end).trim();
    if (piece) out.push(piece);
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** The stop words Gopher counts (the quality rule's default list). */
export const GOPHER_STOP_WORDS = ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'];

/** What the rules count over a text's words, in one pass of the tokenizer: numbers, no word strings kept. */
export interface WordStats {
  count: number;
  /** Words that are only punctuation or symbols. */
  symbols: number;
  /** Characters in the other words. */
  contentChars: number;
  /** Words holding a letter. */
  letters: number;
  /** Occurrences of the view's stop words (case-insensitive). */
  stopWords: number;
}

const LONG = 0xffff;

/**
 * Every word of a text as a number, its hash, and its length in characters: 6 bytes a word
 * (the n-gram rules' input; a 50 MB text has ~11 M words). A word of 65,535 characters or more
 * keeps its length in a side table.
 */
export class WordIds {
  ids: Uint32Array;
  private lengths: Uint16Array;
  private readonly long = new Map<number, number>();
  private count = 0;

  /** `capacity`: room reserved (pages never written cost no memory); it grows past it. */
  constructor(capacity: number) {
    this.ids = new Uint32Array(capacity + 16);
    this.lengths = new Uint16Array(capacity + 16);
  }

  add(word: string): void {
    const i = this.count++;
    if (i === this.ids.length) {
      const ids = new Uint32Array(i * 2);
      ids.set(this.ids);
      this.ids = ids;
      const lengths = new Uint16Array(i * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.ids[i] = hashString(word);
    if (word.length >= LONG) this.long.set(i, word.length);
    this.lengths[i] = Math.min(word.length, LONG);
  }

  /** Trims the arrays to the words added. */
  done(): this {
    this.ids = this.ids.subarray(0, this.count);
    this.lengths = this.lengths.subarray(0, this.count);
    return this;
  }

  /** Characters in the `n` words from word `at`. */
  chars(at: number, n: number): number {
    let chars = 0;
    for (let k = at; k < at + n; k++) {
      const length = this.lengths[k];
      chars += length === LONG ? (this.long.get(k) as number) : length;
    }
    return chars;
  }
}

/** The pieces of `text` between matches of `separator` (a global regex that cannot match empty), as `text.split` gives them, one at a time. */
export function* pieces(text: string, separator: RegExp): Generator<string> {
  let start = 0;
  separator.lastIndex = 0;
  for (let m = separator.exec(text); m; m = separator.exec(text)) {
    yield text.slice(start, m.index);
    start = m.index + m[0].length;
  }
  yield text.slice(start);
}

const LINE_BREAKS = new RegExp(LINE_BREAK.source, 'g');

/**
 * A view of one text. Words, lines, paragraphs are streamed or counted, never held as arrays:
 * a 50 MB document would otherwise cost gigabytes of small strings.
 */
export class TextView {
  private stats?: WordStats;
  private readonly stop: ReadonlySet<string>;
  constructor(
    readonly text: string,
    stopWords: readonly string[] = GOPHER_STOP_WORDS,
  ) {
    this.stop = new Set(stopWords.map((w) => w.toLowerCase()));
  }

  /** Treebank-like words, punctuation marks included, counted (see `tokenize`). */
  get words(): WordStats {
    return (this.stats ??= this.scan(false).stats);
  }
  /** The words' hashes and lengths (typed arrays, made afresh on each call: the n-gram rules' input). */
  wordIds(): WordIds {
    const { stats, ids } = this.scan(true);
    this.stats = stats;
    return ids as WordIds;
  }
  /** Occurrences of `stopWords` (case-insensitive): the view's own list is counted with the words. */
  stopWordCount(stopWords: readonly string[]): number {
    const stop = new Set(stopWords.map((w) => w.toLowerCase()));
    if (stop.size === this.stop.size && [...stop].every((w) => this.stop.has(w))) return this.words.stopWords;
    let n = 0;
    for (const m of this.text.matchAll(WORD)) if (stop.has(m[0].toLowerCase())) n++;
    return n;
  }

  private scan(withIds: boolean): { stats: WordStats; ids?: WordIds } {
    const stats: WordStats = { count: 0, symbols: 0, contentChars: 0, letters: 0, stopWords: 0 };
    // Room for a word every other character.
    const ids = withIds ? new WordIds(this.text.length >> 1) : undefined;
    for (const m of this.text.matchAll(WORD)) {
      const w = m[0];
      stats.count++;
      if (isSymbolWord(w)) stats.symbols++;
      else stats.contentChars += w.length;
      if (hasLetter(w)) stats.letters++;
      if (this.stop.has(w.toLowerCase())) stats.stopWords++;
      ids?.add(w);
    }
    return { stats, ids: ids?.done() };
  }

  /** Lines split on runs of "\n" (datatrove's repetition rules). */
  lines(): Generator<string> {
    return pieces(this.text, /\n+/g);
  }
  /** Lines as Python's splitlines() gives them (datatrove's Gopher and C4 rules). */
  *splitLines(): Generator<string> {
    let held: string | null = null;
    for (const line of pieces(this.text, LINE_BREAKS)) {
      if (held !== null) yield held;
      held = line;
    }
    if (held) yield held; // splitlines() gives no empty last line
  }
  /** Paragraphs: the stripped text split on two or more newlines. */
  paragraphs(): Generator<string> {
    return pieces(this.text.trim(), /\n{2,}/g);
  }
}

/** All elements, those seen before, and their characters (the second and later copies only). */
export function duplicates(items: Iterable<string>): { total: number; elements: number; chars: number } {
  const seen = new Set<string>();
  let total = 0;
  let elements = 0;
  let chars = 0;
  for (const item of items) {
    total++;
    if (seen.has(item)) {
      elements++;
      chars += item.length;
    } else seen.add(item);
  }
  return { total, elements, chars };
}
