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
import { mapPhase, type Operation, type Phase } from '../core/plan.js';
import { writeFileAtomic } from '../core/layout.js';
import { formatBytes, formatCount } from '../core/progress.js';
import type { Doc } from '../core/schema.js';
import { inValidation } from '../core/split.js';
import { defineStage, drop, type Sink, type SinkOptions, needsText } from '../core/stage.js';
import { readTaskStats, sumStats } from '../core/stats.js';
import { readDocs } from '../import/read.js';
import { WordCounter, trainBpe } from './bpe-train.js';
import { TOKEN_FORMATS, writeMegatron, writeNanogpt, type MegatronSplit, type NanogptMeta } from './formats.js';
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
    format: z
      .enum(TOKEN_FORMATS)
      .default('arrow')
      .describe(
        'besides the Arrow token shards (which `refinery train` reads): nanogpt writes OUT/nanogpt/train.bin, val.bin (flat uint16, uint32 above 65,536 tokens) and meta.pkl / meta.json; ' +
          'megatron writes OUT/megatron/{train,val}_text_document.bin/.idx (Megatron-LM indexed dataset, one sequence per document)',
      ),
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
  /** The trainer files --format wrote (paths relative to the output). */
  nanogpt?: NanogptMeta & { dir: string };
  megatron?: Partial<Record<Split, MegatronSplit>>;
}
export const tokensSummaryFile = (out: string) => join(out, '_tokens.json');

/** _tokens.json of a finished tokenize run: what the trainer reads first. */
function tokensSummary(out: string, c: TokenizeConfig, formats: TrainerFiles | null): TokensSummary {
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
    ...(formats?.nanogpt ? { nanogpt: formats.nanogpt } : {}),
    ...(formats?.megatron ? { megatron: formats.megatron } : {}),
  };
  writeFileAtomic(tokensSummaryFile(out), `${JSON.stringify(summary, null, 1)}\n`);
  return summary;
}

export const tokenizeOperation: Operation = {
  name: 'tokenize',
  summary: tokenizeStage.summary,
  description: `${tokenizeStage.description ?? ''} Phases: tokenize (map) [-> nanogpt or megatron (reduce, with --format)] -> summary (reduce, _tokens.json).`,
  options: tokenizeOptions,
  check(config) {
    const c = config as TokenizeConfig;
    Tokenizer.load(c.tokenizer).special(END_OF_TEXT);
    if (c.format === 'nanogpt' && !c.val) throw new UserError("tokenize --format nanogpt: nanoGPT's train.py reads train.bin and val.bin; give --val (say 1%) for the validation share");
  },
  phases: (config, ctx) => {
    const c = config as TokenizeConfig;
    const phases: Phase[] = [mapPhase('tokenize', tokenizeStage, config, ctx.inputs, ctx.out)];
    if (c.format !== 'arrow') {
      // Run once after the token shards, and again only when they change.
      phases.push({ kind: 'reduce', name: c.format, run: (log) => trainerFiles(ctx.out, c, log) });
    }
    phases.push({
      kind: 'reduce',
      name: 'summary',
      final: true,
      run: () => tokensSummary(ctx.out, c, c.format === 'arrow' ? null : ctx.result<TrainerFiles>(c.format)),
    });
    return phases;
  },
};

interface TrainerFiles {
  nanogpt?: NanogptMeta & { dir: string };
  megatron?: Partial<Record<Split, MegatronSplit>>;
}

/** The nanoGPT or Megatron files of a finished tokenize map phase (formats.ts). */
function trainerFiles(out: string, c: TokenizeConfig, log: (line: string) => void): TrainerFiles {
  const tokenizer = Tokenizer.load(c.tokenizer);
  const info = { vocabSize: tokenizer.vocabSize, eot: tokenizer.special(END_OF_TEXT), tokenizer: tokenizerId(c.tokenizer) };
  if (c.format === 'nanogpt') {
    const meta = writeNanogpt(out, info);
    log(`tokenize: nanoGPT files in ${join(out, 'nanogpt')}: ${Object.entries(meta.splits).map(([s, f]) => `${f.file} ${formatCount(f.tokens)} ${meta.dtype} tokens`).join(', ')}; meta.pkl`);
    return { nanogpt: { ...meta, dir: 'nanogpt' } };
  }
  const made = writeMegatron(out, info);
  log(`tokenize: Megatron indexed datasets in ${join(out, 'megatron')}: ${Object.values(made).map((m) => `${m.prefix}.bin/.idx (${formatCount(m.documents)} documents, ${formatCount(m.tokens)} tokens)`).join(', ')}`);
  return { megatron: made };
}

export function readTokensSummary(out: string): TokensSummary {
  return JSON.parse(readFileSync(tokensSummaryFile(out), 'utf8')) as TokensSummary;
}

