/**
 * The heuristic quality rules of Gopher (Rae et al. 2021), C4 (Raffel et al. 2020) and
 * FineWeb (Penedo et al. 2024), with the published thresholds as defaults and datatrove's
 * way of measuring each (GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter,
 * FineWebQualityFilter). Each family yields its checks in datatrove's order, so a filter stops
 * at the first failure and `refinery quality explain` can show them all.
 *
 * Differences from datatrove, on purpose: stop words are matched case-insensitively ("The"
 * counts, as the Gopher paper means); ratios over a document without words are 0, not a crash.
 */
import * as z from 'zod';
import { combine } from '../core/hash.js';
import { LanguageTextView } from './lang-view.js';
import { GOPHER_STOP_WORDS, TextView, duplicates, pieces, sentences, type WordIds } from './text-view.js';

export interface RuleCheck {
  family: string;
  /** The rule, and the reason a document that fails it is excluded with. */
  rule: string;
  value: number;
  /** The threshold in words, e.g. ">= 50". */
  limit: string;
  pass: boolean;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
const atLeast = (family: string, rule: string, value: number, min: number): RuleCheck => ({ family, rule, value, limit: `>= ${min}`, pass: value >= min });
const atMost = (family: string, rule: string, value: number, max: number): RuleCheck => ({ family, rule, value, limit: `<= ${max}`, pass: value <= max });
const absent = (family: string, rule: string, found: boolean): RuleCheck => ({ family, rule, value: found ? 1 : 0, limit: 'absent', pass: !found });

// ---------------------------------------------------------------------------- Gopher quality

export { GOPHER_STOP_WORDS };

export const gopherQualityOptions = z.object({
  gopher_quality: z.boolean().default(true).describe('apply the Gopher quality rules'),
  gopher_min_words: z.number().min(0).default(50).describe('Gopher: fewest words that are not only symbols'),
  gopher_max_words: z.number().min(0).default(100_000).describe('Gopher: most words that are not only symbols'),
  gopher_min_avg_word_length: z.number().min(0).default(3).describe('Gopher: shortest mean word length (characters)'),
  gopher_max_avg_word_length: z.number().min(0).default(10).describe('Gopher: longest mean word length (characters)'),
  gopher_max_symbol_word_ratio: z.number().min(0).default(0.1).describe('Gopher: most "#", and most "..."/"…", per word'),
  gopher_max_bullet_lines_ratio: z.number().min(0).max(1).default(0.9).describe('Gopher: largest share of lines starting with a bullet ("•" or "-")'),
  gopher_max_ellipsis_lines_ratio: z.number().min(0).max(1).default(0.3).describe('Gopher: largest share of lines ending with "..." or "…"'),
  gopher_min_alpha_words_ratio: z.number().min(0).max(1).default(0.8).describe('Gopher: smallest share of words holding a letter'),
  gopher_min_stop_words: z.number().int().min(0).default(2).describe('Gopher: fewest occurrences of the stop words'),
  gopher_stop_words: z.array(z.string()).default(GOPHER_STOP_WORDS).describe('Gopher: the stop words (comma-separated)'),
});
type GopherQuality = z.infer<typeof gopherQualityOptions>;

export function* gopherQuality(v: TextView, c: GopherQuality): Generator<RuleCheck> {
  const f = 'gopher-quality';
  const words = v.words;
  const content = words.count - words.symbols;
  yield atLeast(f, 'too-few-words', content, c.gopher_min_words);
  yield atMost(f, 'too-many-words', content, c.gopher_max_words);
  const mean = ratio(words.contentChars, content);
  yield atLeast(f, 'short-words', mean, c.gopher_min_avg_word_length);
  yield atMost(f, 'long-words', mean, c.gopher_max_avg_word_length);
  const text = v.text;
  yield atMost(f, 'too-many-hashes', ratio(count(text, '#'), words.count), c.gopher_max_symbol_word_ratio);
  yield atMost(f, 'too-many-ellipses', ratio(count(text, '...') + count(text, '…'), words.count), c.gopher_max_symbol_word_ratio);
  let lines = 0;
  let bullets = 0;
  let ellipsisEnds = 0;
  for (const l of v.splitLines()) {
    lines++;
    if (/^\s*[•-]/.test(l)) bullets++;
    if (/(\.\.\.|…)\s*$/.test(l)) ellipsisEnds++;
  }
  yield atMost(f, 'too-many-bullet-lines', ratio(bullets, lines), c.gopher_max_bullet_lines_ratio);
  yield atMost(f, 'too-many-ellipsis-lines', ratio(ellipsisEnds, lines), c.gopher_max_ellipsis_lines_ratio);
  yield atLeast(f, 'too-few-alpha-words', ratio(words.letters, words.count), c.gopher_min_alpha_words_ratio);
  yield atLeast(f, 'too-few-stop-words', v.stopWordCount(c.gopher_stop_words), c.gopher_min_stop_words);
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

// ------------------------------------------------------------------------ Gopher repetition

export const gopherRepetitionOptions = z.object({
  gopher_repetition: z.boolean().default(true).describe('apply the Gopher repetition rules'),
  repetition_max_dup_para_frac: z.number().min(0).max(1).default(0.3).describe('repetition: largest share of paragraphs that repeat an earlier one'),
  repetition_max_dup_para_char_frac: z.number().min(0).max(1).default(0.2).describe('repetition: largest share of characters in repeated paragraphs'),
  repetition_max_dup_line_frac: z.number().min(0).max(1).default(0.3).describe('repetition: largest share of lines that repeat an earlier one'),
  repetition_max_dup_line_char_frac: z.number().min(0).max(1).default(0.2).describe('repetition: largest share of characters in repeated lines'),
  repetition_top_ngram_fracs: z
    .array(z.coerce.number().min(0).max(1))
    .length(3)
    .default([0.2, 0.18, 0.16])
    .describe('repetition: largest share of characters in the most frequent 2-, 3- and 4-gram'),
  repetition_dup_ngram_fracs: z
    .array(z.coerce.number().min(0).max(1))
    .length(6)
    .default([0.15, 0.14, 0.13, 0.12, 0.11, 0.1])
    .describe('repetition: largest share of characters in repeated 5- to 10-grams'),
});
type GopherRepetition = z.infer<typeof gopherRepetitionOptions>;

/**
 * Word n-grams as 64-bit hashes (two 32-bit halves), grown one word at a time (the n-gram hashes
 * come from the (n-1)-gram hashes plus one word), so every n from 2 to 10 costs one pass, and
 * counted in an open-addressing table of typed arrays: no strings, no boxed numbers.
 */
class NGrams {
  private readonly words: WordIds;
  private readonly ids: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private n = 0;
  // the table: slot -> 1 + position of the n-gram's first occurrence (0 = empty); counts by that position
  private readonly mask: number;
  private readonly first: Int32Array;
  private readonly count: Int32Array;
  constructor(words: WordIds) {
    const { ids } = words;
    const size = ids.length;
    this.ids = ids;
    this.words = words;
    this.hi = new Uint32Array(size).fill(0x2545f491);
    this.lo = new Uint32Array(size).fill(0x9e3779b9);
    // at most 2/3 full: n-grams are at most as many as words
    const slots = 2 ** Math.ceil(Math.log2(Math.max(2, size) * 1.5));
    this.mask = slots - 1;
    this.first = new Int32Array(slots);
    this.count = new Int32Array(size);
  }

  /** Hashes every n-gram; returns how many there are. */
  private grow(n: number): number {
    const { ids, hi, lo } = this;
    for (; this.n < n; this.n++) {
      const last = this.n;
      for (let at = 0; at + last < ids.length; at++) {
        const id = ids[at + last];
        hi[at] = combine(hi[at], id);
        lo[at] = combine(lo[at] ^ 0x68e31da4, id);
      }
    }
    this.first.fill(0);
    this.count.fill(0);
    return Math.max(0, ids.length - n + 1);
  }
  /** The slot of the n-gram at `at`: where it was first counted, or the empty slot it goes in. */
  private slot(at: number): number {
    const { hi, lo, first, mask } = this;
    for (let s = lo[at] & mask; ; s = (s + 1) & mask) {
      const f = first[s];
      if (f === 0 || (lo[f - 1] === lo[at] && hi[f - 1] === hi[at])) return s;
    }
  }
  private chars(at: number, n: number): number {
    return this.words.chars(at, n);
  }

  /** Characters of the most frequent n-gram (joined by spaces) times its count; ties go to the first seen. */
  topChars(n: number): number | null {
    const total = this.grow(n);
    if (total === 0) return null;
    let best = 0;
    let most = 0;
    for (let at = 0; at < total; at++) {
      const s = this.slot(at);
      if (this.first[s] === 0) this.first[s] = at + 1;
      const f = this.first[s] - 1;
      const c = ++this.count[f];
      if (c > most || (c === most && f < best)) [best, most] = [f, c];
    }
    return (this.chars(best, n) + n - 1) * most;
  }

  /** Characters (joined without spaces) of n-grams seen before, skipping past each repeat. */
  duplicateChars(n: number): number {
    const total = this.grow(n);
    let chars = 0;
    for (let at = 0; at < total; ) {
      const s = this.slot(at);
      if (this.first[s] !== 0) {
        chars += this.chars(at, n);
        at += n;
      } else {
        this.first[s] = at + 1;
        at++;
      }
    }
    return chars;
  }
}

export function* gopherRepetition(v: TextView, c: GopherRepetition): Generator<RuleCheck> {
  const f = 'gopher-repetition';
  const length = v.text.length;
  const paras = duplicates(v.paragraphs());
  yield atMost(f, 'dup-paragraphs', ratio(paras.elements, paras.total), c.repetition_max_dup_para_frac);
  yield atMost(f, 'dup-paragraph-chars', ratio(paras.chars, length), c.repetition_max_dup_para_char_frac);
  const lines = duplicates(v.lines());
  yield atMost(f, 'dup-lines', ratio(lines.elements, lines.total), c.repetition_max_dup_line_frac);
  yield atMost(f, 'dup-line-chars', ratio(lines.chars, length), c.repetition_max_dup_line_char_frac);
  const grams = new NGrams(v.wordIds());
  for (let i = 0; i < 3; i++) {
    const top = grams.topChars(i + 2);
    if (top !== null) yield atMost(f, `top-${i + 2}-gram`, ratio(top, length), c.repetition_top_ngram_fracs[i]);
  }
  for (let i = 0; i < 6; i++) yield atMost(f, `dup-${i + 5}-grams`, ratio(grams.duplicateChars(i + 5), length), c.repetition_dup_ngram_fracs[i]);
}

// ------------------------------------------------------------------------------------- C4

export const c4Options = z.object({
  c4: z.boolean().default(true).describe('apply the C4 rules (line clean-up, then document rules)'),
  c4_max_word_length: z.number().int().min(1).default(1000).describe('C4: drop lines with a word longer than this'),
  c4_remove_citations: z.boolean().default(true).describe('C4: strip citation markers ([1], [edit], [citation needed])'),
  c4_terminal_punct: z.boolean().default(true).describe('C4: drop lines that do not end in terminal punctuation (. ? ! " \') or end in "..."'),
  c4_min_words_per_line: z.number().int().min(0).default(3).describe('C4: drop lines with fewer words'),
  c4_lorem_ipsum: z.boolean().default(true).describe('C4: drop documents containing "lorem ipsum"'),
  c4_javascript: z.boolean().default(true).describe('C4: drop lines mentioning "javascript"'),
  c4_curly_bracket: z.boolean().default(true).describe('C4: drop documents containing "{"'),
  c4_policy: z.boolean().default(true).describe('C4: drop lines about terms of use, privacy or cookie policies'),
  c4_min_sentences: z.number().int().min(0).default(5).describe('C4: drop documents with fewer sentences (after line clean-up)'),
});
type C4 = z.infer<typeof c4Options>;

const CITATION = /\[\d*]|\[edit]|\[citation needed]/g;
const END_PUNCTUATION = ['.', '?', '!', '"', "'"];
const POLICY = ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'];

export interface C4Result {
  /** The cleaned text (lines kept, joined by "\n"). */
  text: string;
  checks: RuleCheck[];
  /** Lines removed, by reason. */
  removed: Record<string, number>;
}

/** C4's line clean-up and document rules; `checks` ends at the first failure unless `all`. */
export function c4Quality(text: string | TextView, c: C4, all = false): C4Result {
  const f = 'c4';
  const removed: Record<string, number> = {};
  const remove = (why: string) => (removed[why] = (removed[why] ?? 0) + 1);
  const checks: RuleCheck[] = [];
  const kept: string[] = [];
  let sentenceCount = 0;
  let lorem = false;
  let curly = false;
  const view = typeof text === 'string' ? new TextView(text) : text;
  // Another language than English: its words per line, its sentence terminators ("。", "।").
  const lang = view instanceof LanguageTextView ? view : null;
  for (const raw of view.splitLines()) {
    let line = raw.trim();
    const words = lang ? null : line.split(/\s+/).filter(Boolean);
    if (words ? words.some((w) => w.length > c.c4_max_word_length) : lang!.hasWordLongerThan(line, c.c4_max_word_length)) {
      remove('too-long-word');
      continue;
    }
    if (c.c4_remove_citations) line = line.replace(CITATION, '');
    if (c.c4_terminal_punct && (lang ? !lang.endsSentence(line) : !END_PUNCTUATION.some((p) => line.endsWith(p)) || line.endsWith('...'))) {
      remove('no-terminal-punctuation');
      continue;
    }
    if (words ? words.length < c.c4_min_words_per_line : !lang!.hasWords(line, c.c4_min_words_per_line)) {
      remove('too-few-words');
      continue;
    }
    const lower = line.toLowerCase();
    if (c.c4_lorem_ipsum && lower.includes('lorem ipsum')) {
      lorem = true;
      if (!all) break;
    }
    if (c.c4_javascript && lower.includes('javascript')) {
      remove('javascript');
      continue;
    }
    if (c.c4_curly_bracket && line.includes('{')) {
      curly = true;
      if (!all) break;
    }
    if (c.c4_policy && POLICY.some((p) => lower.includes(p))) {
      remove('policy');
      continue;
    }
    sentenceCount += lang ? lang.sentenceCount(line) : sentences(line).length;
    kept.push(line);
  }
  if (c.c4_lorem_ipsum) checks.push(absent(f, 'lorem-ipsum', lorem));
  if (c.c4_curly_bracket && (all || !lorem)) checks.push(absent(f, 'curly-bracket', curly));
  if (all || (!lorem && !curly)) checks.push(atLeast(f, 'too-few-sentences', sentenceCount, c.c4_min_sentences));
  return { text: kept.join('\n').trim(), checks: all ? checks : checks.slice(0, firstFailure(checks) + 1), removed };
}

function firstFailure(checks: readonly RuleCheck[]): number {
  const i = checks.findIndex((x) => !x.pass);
  return i === -1 ? checks.length : i;
}

// --------------------------------------------------------------------------------- FineWeb

export const finewebOptions = z.object({
  fineweb: z.boolean().default(true).describe('apply the FineWeb rules'),
  fineweb_min_punct_line_share: z.number().min(0).max(1).default(0.12).describe('FineWeb: smallest share of lines ending in terminal punctuation'),
  fineweb_punct_exclude_zero: z.boolean().default(false).describe('FineWeb: let documents with no such line at all pass the rule above'),
  fineweb_max_short_line_share: z.number().min(0).max(1).default(0.67).describe('FineWeb: largest share of short lines'),
  fineweb_short_line_length: z.number().int().min(0).default(30).describe('FineWeb: a short line has at most this many characters'),
  fineweb_max_dup_line_char_share: z.number().min(0).max(1).default(0.01).describe('FineWeb: largest share of characters in repeated lines'),
  fineweb_max_newlines_per_word: z.number().min(0).default(0.3).describe('FineWeb: most newlines per word (list-like pages)'),
});
type FineWeb = z.infer<typeof finewebOptions>;

const TERMINAL = /\p{Sentence_Terminal}$/u;

export function* finewebQuality(v: TextView, c: FineWeb): Generator<RuleCheck> {
  const f = 'fineweb';
  let punctuated = 0;
  let short = 0;
  const lines = duplicates(
    (function* nonEmpty() {
      for (const l of pieces(v.text, /\n/g)) {
        if (l.trim() === '') continue;
        if (TERMINAL.test(l)) punctuated++;
        if (l.length <= c.fineweb_short_line_length) short++;
        yield l;
      }
    })(),
  );
  yield atLeast(f, 'no-lines', lines.total, 1);
  const punct = ratio(punctuated, lines.total);
  const punctCheck = atLeast(f, 'few-punctuated-lines', punct, c.fineweb_min_punct_line_share);
  if (c.fineweb_punct_exclude_zero && punct === 0) punctCheck.pass = true;
  yield punctCheck;
  yield atMost(f, 'many-short-lines', ratio(short, lines.total), c.fineweb_max_short_line_share);
  const newlines = count(v.text, '\n');
  yield atMost(f, 'dup-line-chars', ratio(lines.chars, v.text.length - newlines), c.fineweb_max_dup_line_char_share);
  yield atMost(f, 'many-newlines', ratio(newlines, v.words.count), c.fineweb_max_newlines_per_word);
}

// ---------------------------------------------------------------------------------- all

export const heuristicOptions = gopherRepetitionOptions.extend(gopherQualityOptions.shape).extend(c4Options.shape).extend(finewebOptions.shape);
export type HeuristicConfig = z.infer<typeof heuristicOptions>;

/** What one family found in a text. */
export interface FamilyResult {
  /** The family's checks in order; a lazy sequence, so a filter can stop at the first failure. */
  checks: Iterable<RuleCheck>;
  /** The text after the family's clean-up, for a family that rewrites it (C4). */
  text?: string;
  /** Lines the clean-up removed, by reason. */
  removed?: Record<string, number>;
}

/** A family of rules: the quality stage makes each one a step, `judge` runs them in turn. */
export interface RuleFamily {
  name: string;
  /** The family rewrites the text it passes (C4's line clean-up): a transform step, not a filter. */
  cleans?: boolean;
  enabled(c: HeuristicConfig): boolean;
  /** `all`: yield every check, past the first failure (families that stop early on their own need it). */
  run(v: TextView, c: HeuristicConfig, all: boolean): FamilyResult;
}

/** The families in FineWeb's order: each runs on the text the ones before it left. */
export const RULE_FAMILIES: readonly RuleFamily[] = [
  { name: 'gopher-repetition', enabled: (c) => c.gopher_repetition, run: (v, c) => ({ checks: gopherRepetition(v, c) }) },
  { name: 'gopher-quality', enabled: (c) => c.gopher_quality, run: (v, c) => ({ checks: gopherQuality(v, c) }) },
  { name: 'c4', cleans: true, enabled: (c) => c.c4, run: (v, c, all) => c4Quality(v, c, all) },
  { name: 'fineweb', enabled: (c) => c.fineweb, run: (v, c) => ({ checks: finewebQuality(v, c) }) },
];

export interface Verdict {
  /** The text after C4's line clean-up (the input text when C4 is off). */
  text: string;
  /** Every check run, in order; the last one failed when `failed` is set. */
  checks: RuleCheck[];
  failed: RuleCheck | null;
  /** C4 lines removed, by reason. */
  linesRemoved: Record<string, number>;
}

/**
 * The view the rules read a document through: English (or no language) keeps `TextView`,
 * any other language gets its own words (lang-view.ts).
 */
export function viewFor(text: string, c: HeuristicConfig, lang: string | null = null): TextView {
  return lang && lang !== 'en' ? new LanguageTextView(text, c.gopher_stop_words, lang) : new TextView(text, c.gopher_stop_words);
}

/**
 * All enabled families of `RULE_FAMILIES`; stops at the first failure unless `all`. `lang`: the
 * document's language, with `c` its settings (languages.ts, settingsFor).
 */
export function judge(text: string, c: HeuristicConfig, all = false, lang: string | null = null): Verdict {
  const checks: RuleCheck[] = [];
  let failed: RuleCheck | null = null;
  let view = viewFor(text, c, lang);
  const linesRemoved: Record<string, number> = {};
  for (const family of RULE_FAMILIES) {
    if (!family.enabled(c)) continue;
    const r = family.run(view, c, all);
    for (const check of r.checks) {
      checks.push(check);
      if (!check.pass && !failed) {
        failed = check;
        if (!all) break;
      }
    }
    for (const [why, n] of Object.entries(r.removed ?? {})) linesRemoved[why] = (linesRemoved[why] ?? 0) + n;
    if (r.text !== undefined && r.text !== view.text) view = viewFor(r.text, c, lang);
    if (failed && !all) break;
  }
  return { text: view.text, checks, failed, linesRemoved };
}
