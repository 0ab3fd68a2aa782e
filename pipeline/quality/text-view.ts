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

export class TextView {
  private cache: { words?: string[]; lines?: string[]; splitLines?: string[]; paragraphs?: string[] } = {};
  constructor(readonly text: string) {}

  /** Treebank-like words, punctuation marks included. */
  get words(): string[] {
    return (this.cache.words ??= tokenize(this.text));
  }
  /** Lines split on runs of "\n" (datatrove's repetition rules). */
  get lines(): string[] {
    return (this.cache.lines ??= this.text.split(/\n+/));
  }
  /** Lines as Python's splitlines() gives them (datatrove's Gopher and C4 rules). */
  get splitLines(): string[] {
    if (this.cache.splitLines) return this.cache.splitLines;
    const lines = this.text.split(LINE_BREAK);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return (this.cache.splitLines = lines);
  }
  /** Paragraphs: the stripped text split on two or more newlines. */
  get paragraphs(): string[] {
    return (this.cache.paragraphs ??= this.text.trim().split(/\n{2,}/));
  }
}

/** Elements seen before, and their characters (the second and later copies only). */
export function duplicates(items: readonly string[]): { elements: number; chars: number } {
  const seen = new Set<string>();
  let elements = 0;
  let chars = 0;
  for (const item of items) {
    if (seen.has(item)) {
      elements++;
      chars += item.length;
    } else seen.add(item);
  }
  return { elements, chars };
}
