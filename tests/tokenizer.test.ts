/**
 * The byte-level BPE tokenizer: the textbook merge sequence, exact round trips (any string,
 * lone surrogates included), the fast path for long pieces, tokenizer.json read back by
 * Hugging Face's `tokenizers`, and every text in ../shared/data.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { bytesText, textBytes } from '../pipeline/tokenize/bytes.js';
import { WordCounter, trainBpe } from '../pipeline/tokenize/bpe-train.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { writeBrownJsonl } from '../datasets/brown.js';
import { sharedData, tempDir, cleanup } from './helpers/cli.js';

function build(counter: WordCounter, vocabSize: number): Tokenizer {
  const r = trainBpe(counter, { vocabSize, specialTokens: [END_OF_TEXT] });
  return new Tokenizer([...r.tokenBytes, Uint8Array.from(Buffer.from(END_OF_TEXT))], r.merges.map(([a, b], i) => [a, b, 256 + i]), new Map([[END_OF_TEXT, r.tokenBytes.length]]));
}

/** A tokenizer trained on the Brown corpus (built once). */
let brown: { tokenizer: Tokenizer; text: string } | null = null;
function brownTokenizer(): { tokenizer: Tokenizer; text: string } {
  if (brown) return brown;
  const dir = tempDir();
  try {
    const files = writeBrownJsonl(dir);
    const text = files.map((f) => gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text).join('\n\n')).join('\n\n');
    const counter = new WordCounter();
    counter.add(text);
    brown = { tokenizer: build(counter, 2048), text };
    return brown;
  } finally {
    cleanup(dir);
  }
}

describe('BPE training', () => {
  it('learns the textbook merges on the hand-checked corpus (ties to the lower ids, as Hugging Face does)', () => {
    // low x5, lower x2, widest x3, newest x6 (the example of Sennrich et al. and CS336), one word per piece.
    const counter = new WordCounter();
    for (const [w, n] of [['low', 5], ['lower', 2], ['widest', 3], ['newest', 6]] as const) counter.counts.set(w, n);
    const r = trainBpe(counter, { vocabSize: 256 + 12 + 1, specialTokens: [END_OF_TEXT] });
    const name = (id: number) => Buffer.from(r.tokenBytes[id]).toString();
    expect(r.merges.map(([a, b]) => `${name(a)} ${name(b)}`)).toEqual(['e s', 'es t', 'l o', 'lo w', 'e w', 'n ew', 'new est', 'd est', 'i dest', 'w idest', 'e r', 'low er']);
  });

  it('stops when no pair is left and counts pieces as GPT-2 splits them', () => {
    const counter = new WordCounter();
    counter.add("It's 2026, isn't it?\n\n  Yes");
    expect([...counter.counts.keys()]).toEqual(['It', "'s", ' 2026', ',', ' isn', "'t", ' it', '?', '\n\n ', ' Yes']);
    const r = trainBpe(counter, { vocabSize: 100_000, specialTokens: [] });
    expect(r.merges.length).toBeLessThan(60);
  });
});

describe('encoding', () => {
  it('round-trips any string exactly: scripts, emoji, control characters, lone surrogates', () => {
    const { tokenizer } = brownTokenizer();
    const samples = [
      'The quick brown fox.',
      'naïve café — ½ “quotes” ‘x’',
      '日本語のテキストと中文文本，한국어 텍스트',
      'emoji 😀👍🏽 👨‍👩‍👧 and flags 🇫🇷',
      'tabs\tand\r\nwindows\u0000nul\u001b[31m',
      'lone \ud800 high and \udc00 low, reversed \udc00\ud800, pair \ud83d\ude00',
      `${END_OF_TEXT} inside text`,
      '',
    ];
    for (const s of samples) expect(tokenizer.decode(tokenizer.encode(s))).toBe(s);
    const random = new Random(3);
    for (let i = 0; i < 300; i++) {
      const s = String.fromCharCode(...Array.from({ length: random.int(0, 40) }, () => random.int(0, 0xffff)));
      expect(tokenizer.decode(tokenizer.encode(s))).toBe(s);
    }
    // Special tokens are not made from text.
    expect(tokenizer.encode(END_OF_TEXT)).not.toContain(tokenizer.special(END_OF_TEXT));
  });

  it('WTF-8 bytes: UTF-8 for well-formed text, surrogates restored, invalid sequences to U+FFFD', () => {
    expect(Buffer.from(textBytes('héllo 😀')).toString('utf8')).toBe('héllo 😀');
    expect(bytesText(textBytes('a\ud800b'))).toBe('a\ud800b');
    expect(bytesText(Uint8Array.of(0x61, 0xff, 0xed, 0xa0, 0x80, 0x62))).toBe('a\ufffd\ud800b');
  });

  it('long pieces (heap path) merge exactly as short ones (quadratic path)', () => {
    const { tokenizer } = brownTokenizer();
    const t = tokenizer as unknown as { mergeShort(ids: number[]): number[]; mergeLong(ids: number[]): number[]; encodePiece(b: Uint8Array): number[] };
    const random = new Random(9);
    const letters = 'etaoinshrdlucmfwypvbgkqjxz';
    for (let i = 0; i < 200; i++) {
      const word = Array.from({ length: random.int(2, 300) }, () => letters[Math.min(25, Math.floor(random.next() ** 2 * 26))]).join('');
      const ids = Array.from(Buffer.from(word), (b) => b);
      expect(t.mergeLong([...ids])).toEqual(t.mergeShort([...ids]));
    }
  });

  it('writes a tokenizer.json that reads back and that Hugging Face tokenizers encodes identically', async () => {
    const { tokenizer, text } = brownTokenizer();
    const json = tokenizer.toJson();
    const again = Tokenizer.fromJson(json);
    const sample = text.slice(0, 100_000);
    expect(again.encode(sample)).toEqual(tokenizer.encode(sample));
    const hf = (createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromString(s: string): { encode(s: string): Promise<{ getIds(): number[] }> } } }).Tokenizer.fromString(json);
    const extra = ' Ünïcödé 日本語 😀 tabs\t\tand  spaces\n\n\n';
    for (const s of [sample, extra]) expect((await hf.encode(s)).getIds()).toEqual(tokenizer.encode(s));
    expect(() => Tokenizer.fromJson('{"model":{"type":"Unigram"}}', 'x.json')).toThrow(/x.json: not a BPE tokenizer/);
  });
});

describe('every text in ../shared/data round-trips', () => {
  const root = sharedData();
  it.skipIf(!root)('decode(encode(text)) === text for every file (gzip files unpacked)', () => {
    const { tokenizer } = brownTokenizer();
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(root as string);
    let bytes = 0;
    for (const file of files) {
      let raw = readFileSync(file);
      if (file.endsWith('.gz')) {
        try {
          raw = gunzipSync(raw);
        } catch {
          // a per-record gzip file: its members are read as they are
        }
      }
      // As UTF-8 (invalid bytes become U+FFFD) and as Latin-1 (every byte a character).
      for (const text of [raw.toString('utf8'), raw.toString('latin1')]) {
        expect(tokenizer.decode(tokenizer.encode(text)) === text, file).toBe(true);
        bytes += text.length;
      }
    }
    expect(files.length).toBeGreaterThan(100);
    expect(bytes).toBeGreaterThan(10_000_000);
  }, 300_000);
});
