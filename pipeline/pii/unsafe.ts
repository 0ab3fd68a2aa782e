/**
 * Unsafe-content signals: the share of a text's words found in the LDNOOBW lists (npm
 * `naughty-words`, 28 languages, CC-BY-4.0), phrases matched on word boundaries; and words
 * of a URL found in a banned-word list. One flagged word in an ordinary page ("xxx",
 * "suck") is common, so documents are judged by the share of flagged words, as C4/FineWeb-
 * style filters are tuned.
 */
import { createRequire } from 'node:module';
import { readListFile } from '../core/list-file.js';

const require = createRequire(import.meta.url);

/** Languages written without spaces between words: their lists are matched as substrings. */
const UNSPACED = new Set(['ja', 'zh', 'th', 'ko']);
const AVAILABLE = new Set(['ar', 'cs', 'da', 'de', 'en', 'eo', 'es', 'fa', 'fi', 'fil', 'fr', 'hi', 'hu', 'it', 'ja', 'kab', 'ko', 'nl', 'no', 'pl', 'pt', 'ru', 'sv', 'th', 'tlh', 'tr', 'zh']);

export interface WordList {
  words: Set<string>;
  /** Multi-word entries by their first word. */
  phrases: Map<string, string[][]>;
  substrings: string[];
}

const cache = new Map<string, WordList>();

export function wordList(lang: string): WordList {
  const code = AVAILABLE.has(lang) ? lang : 'en';
  let list = cache.get(code);
  if (!list) {
    const entries = (require(`naughty-words/${code}.json`) as string[]).map((e) => e.toLowerCase().trim()).filter(Boolean);
    list = { words: new Set(), phrases: new Map(), substrings: [] };
    for (const entry of entries) {
      // A single character of an unspaced script is a morpheme in countless words (性 in 性格, 可能性).
      if (UNSPACED.has(code)) {
        if ([...entry].length > 1) list.substrings.push(entry);
      }
      else {
        const parts = entry.split(/\s+/);
        if (parts.length === 1) list.words.add(parts[0]);
        else list.phrases.set(parts[0], [...(list.phrases.get(parts[0]) ?? []), parts]);
      }
    }
    cache.set(code, list);
  }
  return list;
}

const WORD = /[\p{L}\p{N}'’]+/gu;

export interface UnsafeScore {
  words: number;
  hits: number;
  share: number;
}

export function unsafeScore(text: string, lang: string): UnsafeScore {
  const list = wordList(lang);
  const lower = text.toLowerCase();
  if (list.substrings.length > 0) {
    let hits = 0;
    for (const s of list.substrings) for (let i = lower.indexOf(s); i !== -1; i = lower.indexOf(s, i + s.length)) hits++;
    const words = Math.max(1, Math.round(lower.replace(/\s+/g, '').length / 2));
    return { words, hits, share: hits / words };
  }
  const tokens = lower.match(WORD) ?? [];
  let hits = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (list.words.has(t)) {
      hits++;
      continue;
    }
    for (const phrase of list.phrases.get(t) ?? []) {
      if (phrase.every((p, k) => tokens[i + k] === p)) {
        hits++;
        i += phrase.length - 1;
        break;
      }
    }
  }
  return { words: tokens.length, hits, share: tokens.length ? hits / tokens.length : 0 };
}

/** Words of a URL (host and path split on anything that is not a letter or digit). */
export function urlWords(url: string): string[] {
  return url.toLowerCase().replace(/^[a-z]+:\/\//, '').split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** The banned URL words: a user file, or the single words of the English LDNOOBW list. */
export function bannedUrlWords(file?: string): Set<string> {
  if (file) return new Set(readListFile(file, 'banned URL words').map((e) => e.value.toLowerCase()));
  return new Set(wordList('en').words);
}
