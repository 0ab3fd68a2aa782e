/**
 * `refinery tokenizer train|encode|decode` and `refinery tokenize`: a byte-level BPE
 * tokenizer trained on shards, and documents turned into token shards for the trainer.
 *
 * `tokenize` writes, per input shard, OUT/train/part-TTTTT.arrow and, with --val, the
 * documents whose id hashes into the validation share (the same split as `select` and `mix`)
 * to OUT/val/part-TTTTT.arrow. Documents, tokens and text bytes per split are counted in the
 * stats and summed into OUT/_tokens.json (bits per byte needs the bytes).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { byteSize, percentage, shareOf } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { mapPhase, type Operation } from '../core/plan.js';
import { writeFileAtomic } from '../core/layout.js';
import { formatBytes, formatCount } from '../core/progress.js';
import type { Doc } from '../core/schema.js';
import { inValidation } from '../core/split.js';
import { defineStage, drop, type Sink, type SinkOptions, needsText } from '../core/stage.js';
import { readTaskStats, sumStats } from '../core/stats.js';
import { readDocs } from '../import/read.js';
import { WordCounter, trainBpe } from './bpe-train.js';
import { TokenShardWriter, type TokenShardInfo } from './token-shards.js';
import { END_OF_TEXT, Tokenizer } from './tokenizer.js';

// ------------------------------------------------------------------------------- training

export const tokenizerTrainOptions = z
  .object({
    inputs: z.array(z.string()).min(1),
    output: z.string().min(1),
    vocab: z.number().int().min(257).max(1 << 22).default(8192).describe('vocabulary size: 256 bytes, the merges and the special tokens'),
    special: z.array(z.string().min(1)).default([END_OF_TEXT]).describe('special tokens (the first separates documents)'),
    min_frequency: z.number().int().min(1).default(2).describe('never merge a pair seen fewer times'),
    max_bytes: byteSize().prefault('1GiB').describe('train on at most this much text (the first documents of the inputs)'),
  })
  .strict();
export type TokenizerTrainConfig = z.infer<typeof tokenizerTrainOptions>;

export interface TokenizerTrainReport {
  output: string;
  vocab: number;
  merges: number;
  documents: number;
  bytes: number;
  words: number;
  seconds: { count: number; merge: number };
}

export async function trainTokenizer(c: TokenizerTrainConfig, log: (l: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TokenizerTrainReport> {
  if (!c.output.endsWith('.json')) throw new UserError(`tokenizer train: the output is a tokenizer.json file (got ${c.output})`);
  if (new Set(c.special).size !== c.special.length) throw new UserError('tokenizer train: --special lists a token twice');
  let t = performance.now();
  const counter = new WordCounter();
  let bytes = 0;
  let documents = 0;
  for await (const doc of readDocs(c.inputs, 'tokenizer train', 'file')) {
    if (typeof doc.text !== 'string' || !doc.text) continue;
    counter.add(doc.text);
    documents++;
    bytes += Buffer.byteLength(doc.text);
    if (bytes >= c.max_bytes) break;
  }
  if (documents === 0) throw new UserError(`tokenizer train: no text in ${c.inputs.join(', ')}`);
  const countSeconds = (performance.now() - t) / 1000;
  log(`tokenizer train: ${formatCount(documents)} documents, ${formatBytes(bytes)}, ${formatCount(counter.counts.size)} distinct words in ${countSeconds.toFixed(1)} s`);
  t = performance.now();
  const result = trainBpe(counter, { vocabSize: c.vocab, specialTokens: c.special, minFrequency: c.min_frequency });
  const mergeSeconds = (performance.now() - t) / 1000;
  const base = result.tokenBytes.length;
  const tokenizer = new Tokenizer(
    [...result.tokenBytes, ...c.special.map((s) => Uint8Array.from(Buffer.from(s, 'utf8')))],
    result.merges.map(([a, b], i) => [a, b, 256 + i]),
    new Map(c.special.map((s, i) => [s, base + i])),
  );
  writeFileAtomic(c.output, tokenizer.toJson());
  if (tokenizer.vocabSize < c.vocab) log(`tokenizer train: stopped at ${tokenizer.vocabSize} tokens: no pair is seen --min-frequency ${c.min_frequency} times`);
  return { output: c.output, vocab: tokenizer.vocabSize, merges: result.merges.length, documents, bytes, words: counter.counts.size, seconds: { count: countSeconds, merge: mergeSeconds } };
}

// ------------------------------------------------------------------------------- encoding

export const tokenizeOptions = z
  .object({
    tokenizer: z.string().min(1).describe('the tokenizer.json to encode with'),
    val: percentage().optional().describe('write this share of documents (by a hash of the id, as select and mix split) to OUT/val'),
  })
  .strict();
export type TokenizeConfig = z.infer<typeof tokenizeOptions>;

/** A hash of the tokenizer file, so token shards say which tokenizer made them. */
export const tokenizerId = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);

/** Ids computed by the step, handed to the sink of the same task. */
const encoded = new WeakMap<Doc, number[]>();

export type Split = 'train' | 'val';
const splitOf = (doc: Doc, c: TokenizeConfig): Split => (c.val && inValidation(doc.id, shareOf(c.val)) ? 'val' : 'train');

/** Appends each document's tokens and <|endoftext|> to the task's train or val shard. */
class TokenSink implements Sink {
  rows = 0;
  private readonly writers = new Map<Split, TokenShardWriter>();
  private readonly eot: number[];
  constructor(
    private readonly opts: SinkOptions,
    private readonly c: TokenizeConfig,
    private readonly info: TokenShardInfo,
  ) {
    this.eot = [info.endOfText];
    // A rerun of this task replaces whatever an earlier attempt published.
    for (const split of ['train', 'val'] as const) rmSync(this.pathOf(split), { force: true });
  }
  private pathOf(split: Split): string {
    return join(this.opts.dir, split, `${this.opts.base}.arrow`);
  }
  write(doc: Doc): void {
    const ids = encoded.get(doc);
    if (!ids) throw new Error(`internal: document ${doc.id} reached the sink unencoded`);
    const split = splitOf(doc, this.c);
    let w = this.writers.get(split);
    if (!w) {
      mkdirSync(join(this.opts.dir, split), { recursive: true });
      this.writers.set(split, (w = new TokenShardWriter(this.pathOf(split), this.info)));
    }
    w.write(ids);
    w.write(this.eot);
    this.rows++;
  }
  publish(): string[] {
    return [...this.writers.values()].map((w) => w.publish());
  }
  abort(): void {
    for (const w of this.writers.values()) w.abort();
  }
}

const tokenizers = new Map<string, Tokenizer>();
const loadTokenizer = (file: string) => {
  let t = tokenizers.get(file);
  if (!t) tokenizers.set(file, (t = Tokenizer.load(file)));
  return t;
};

export const tokenizeStage = defineStage({
  name: 'tokenize',
  internal: true,
  needs: needsText,
  summary: 'encode documents into token shards for the trainer',
  description:
    'Each document becomes its token ids followed by <|endoftext|>, appended to OUT/train/part-TTTTT.arrow (a uint16 ' +
    'column, uint32 above 65,536 tokens), or to OUT/val/ for the --val share. Documents, tokens and bytes per split ' +
    'are in the stats and in OUT/_tokens.json.',
  options: tokenizeOptions,
  steps: (c, _columns, _task, ctx) => {
    const tokenizer = loadTokenizer(c.tokenizer);
    return [
      {
        name: 'tokenize',
        kind: 'filter',
        apply(doc) {
          const text = typeof doc.text === 'string' ? doc.text : '';
          if (!text) return drop('no-text');
          const ids = tokenizer.encode(text);
          encoded.set(doc, ids);
          const split = splitOf(doc, c);
          ctx.count(`tokens:${split} documents`);
          ctx.count(`tokens:${split} tokens`, ids.length + 1);
          ctx.count(`tokens:${split} bytes`, Buffer.byteLength(text));
          return undefined;
        },
      },
    ];
  },
  sink: (c) => (opts) => {
    const tokenizer = loadTokenizer(c.tokenizer);
    return new TokenSink(opts, c, { tokenizer: tokenizerId(c.tokenizer), vocabSize: tokenizer.vocabSize, endOfText: tokenizer.special(END_OF_TEXT) });
  },
});

export interface TokensSummary {
  tokenizer: string;
  tokenizer_id: string;
  vocab_size: number;
  eot: number;
  dtype: 'uint16' | 'uint32';
  splits: Record<Split, { documents: number; tokens: number; bytes: number; files: string[] }>;
}
export const tokensSummaryFile = (out: string) => join(out, '_tokens.json');

/** _tokens.json of a finished tokenize run: what the trainer reads first. */
function tokensSummary(out: string, c: TokenizeConfig): TokensSummary {
  const tokenizer = Tokenizer.load(c.tokenizer);
  const counters = sumStats(readTaskStats(out)).counters;
  const files = (split: Split) => {
    try {
      return readdirSync(join(out, split)).filter((n) => n.endsWith('.arrow')).sort().map((n) => join(split, n));
    } catch {
      return [];
    }
  };
  const split = (s: Split) => ({ documents: counters[`tokens:${s} documents`] ?? 0, tokens: counters[`tokens:${s} tokens`] ?? 0, bytes: counters[`tokens:${s} bytes`] ?? 0, files: files(s) });
  const summary: TokensSummary = {
    tokenizer: c.tokenizer,
    tokenizer_id: tokenizerId(c.tokenizer),
    vocab_size: tokenizer.vocabSize,
    eot: tokenizer.special(END_OF_TEXT),
    dtype: tokenizer.vocabSize > 65536 ? 'uint32' : 'uint16',
    splits: { train: split('train'), val: split('val') },
  };
  writeFileAtomic(tokensSummaryFile(out), `${JSON.stringify(summary, null, 1)}\n`);
  return summary;
}

export const tokenizeOperation: Operation = {
  name: 'tokenize',
  summary: tokenizeStage.summary,
  description: `${tokenizeStage.description ?? ''} Phases: tokenize (map) -> summary (reduce, _tokens.json).`,
  options: tokenizeOptions,
  check(config) {
    Tokenizer.load((config as TokenizeConfig).tokenizer).special(END_OF_TEXT);
  },
  phases: (config, ctx) => [
    mapPhase('tokenize', tokenizeStage, config, ctx.inputs, ctx.out),
    { kind: 'reduce', name: 'summary', final: true, run: () => tokensSummary(ctx.out, config as TokenizeConfig) },
  ],
};

export function readTokensSummary(out: string): TokensSummary {
  return JSON.parse(readFileSync(tokensSummaryFile(out), 'utf8')) as TokensSummary;
}

