/**
 * Very large documents (issue 24): a JSONL line of tens of MB imports whole, and the quality
 * rules measure a multi-MB document with counts and typed arrays, giving exactly what the
 * string definitions give. The full sizes (200 MB line, 50 MB document) and their time and
 * peak memory are in `npm run bench -- big-docs`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heuristicOptions, judge } from '../pipeline/quality/heuristics.js';
import { TextView, duplicates, hasLetter, isSymbolWord, tokenize } from '../pipeline/quality/text-view.js';
import { bigText } from '../bench/big-docs.js';
import { cleanup, cliOk, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('big documents', () => {
  it('imports a 24 MB JSONL line whole, escapes and non-ASCII text included', async () => {
    const text = bigText(24e6, 1);
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'big.jsonl'), `{"id":"small","text":"before"}\n${JSON.stringify({ id: 'big', url: 'http://example.com/', text, extra: [1, 2] })}\n`);
    const out = join(dir, 'imported');
    cliOk(['import', join(dir, 'in'), '-o', out, '--progress', 'off']);
    const docs = new Map((await readDocs(out)).map((d) => [d.id, d]));
    expect(docs.get('small')?.text).toBe('before');
    const big = docs.get('big');
    expect(big?.text?.length).toBe(text.length);
    expect(sha(big?.text ?? '')).toBe(sha(text));
    expect(big?.metadata).toBe('{"extra":[1,2]}');
  }, 120_000);

  it('a malformed or text-less line of over 8 MB is excluded with its reason and its whole content, as a short one is', async () => {
    const text = bigText(9e6, 4);
    const broken = `{"id":"broken","text":${JSON.stringify(text)},}`; // a trailing comma
    const tabbed = `{"id":"tabbed","text":"a\tb ${'x'.repeat(9e6)}	c"}`; // a raw tab inside a string
    const textless = JSON.stringify({ id: 'textless', body: text });
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'big.jsonl'), `${broken}\n${tabbed}\n${textless}\n`);
    const out = join(dir, 'bad-out');
    cliOk(['import', join(dir, 'bad'), '-o', out, '--progress', 'off']);
    expect(await readDocs(out)).toEqual([]);
    const excluded = new Map((await readDocs(join(out, '_excluded'))).map((d) => [d.id, d]));
    expect(excluded.get('big#1')?.reason).toMatch(/^malformed-json/);
    expect(excluded.get('big#1')?.text === broken).toBe(true);
    expect(excluded.get('big#2')?.reason).toMatch(/^malformed-json/);
    expect(excluded.get('big#2')?.text === tabbed).toBe(true);
    expect(excluded.get('textless')?.reason).toMatch(/^missing-text/);
    expect(JSON.parse(String(excluded.get('textless')?.metadata))).toEqual({ id: 'textless', body: text });
  }, 120_000);

  it('counts words and lines of a big document as the string definitions do', () => {
    const text = bigText(3e6, 2);
    const v = new TextView(text);
    const words = tokenize(text);
    const content = words.filter((w) => !isSymbolWord(w));
    expect(v.words).toEqual({
      count: words.length,
      symbols: words.length - content.length,
      contentChars: content.reduce((n, w) => n + w.length, 0),
      letters: words.filter(hasLetter).length,
      stopWords: words.filter((w) => ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'].includes(w.toLowerCase())).length,
    });
    const ids = v.wordIds();
    expect(ids.ids.length).toBe(words.length);
    expect(ids.chars(0, words.length)).toBe(words.reduce((n, w) => n + w.length, 0));
    expect(ids.chars(5, 3)).toBe(words[5].length + words[6].length + words[7].length);
    expect([...v.lines()]).toEqual(text.split(/\n+/));
    expect([...v.paragraphs()]).toEqual(text.trim().split(/\n{2,}/));
    expect(duplicates(v.lines()).total).toBe(text.split(/\n+/).length);
  });

  it('a big document gets, through the CLI, the verdict judge gives it, and the same rule values as its text cut into pieces add up to', async () => {
    const text = bigText(6e6, 3);
    const c = heuristicOptions.parse({ gopher_max_words: 1e9 });
    const whole = judge(text, c, true);
    // Counts add up over pieces cut at paragraph breaks (the n-gram rules do not, so only the count rules).
    const pieces = text.split('\n\n');
    const halves = [pieces.slice(0, 500).join('\n\n'), pieces.slice(500).join('\n\n')];
    const words = halves.map((h) => new TextView(h).words.count);
    expect(new TextView(text).words.count).toBe(words[0] + words[1]);
    mkdirSync(join(dir, 'q'));
    writeFileSync(join(dir, 'q', 'doc.txt'), text);
    cliOk(['import', join(dir, 'q'), '-o', join(dir, 'q-docs'), '--progress', 'off']);
    const out = join(dir, 'q-out');
    cliOk(['quality', 'filter', join(dir, 'q-docs'), '-o', out, '--workers', '1', '--gopher-max-words', '1000000000', '--progress', 'off']);
    const kept = await readDocs(out);
    if (whole.failed) expect(kept).toEqual([]);
    else expect(kept.map((d) => sha(d.text ?? ''))).toEqual([sha(whole.text)]);
    expect(whole.checks.length).toBeGreaterThan(20);
  }, 120_000);
});
