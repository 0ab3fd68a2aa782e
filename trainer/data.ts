/**
 * Token streams for training and evaluation, read from `refinery tokenize` output. A batch
 * is B windows of T+1 tokens at positions drawn from a hash of (seed, step, micro-batch,
 * row), so the data order is fixed by the seed and a resumed run sees exactly the batches
 * it would have seen: the data position is the step.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../pipeline/core/errors.js';
import { hashString, mix32 } from '../pipeline/core/hash.js';
import { readTokenShard } from '../pipeline/tokenize/token-shards.js';
import type { TokensSummary } from '../pipeline/tokenize/index.js';

export interface TokenStream {
  dir: string;
  tokens: Uint16Array | Uint32Array;
  vocabSize: number;
  endOfText: number;
  tokenizerId: string;
  /** Text bytes per token of this split (from _tokens.json), for bits per byte; null when unknown. */
  bytesPerToken: number | null;
  /** The tokenizer.json the shards were made with, when recorded. */
  tokenizer: string | null;
}

/**
 * A tokenize output directory's train/ or val/ split, or (when `orItself`) a directory of
 * token shards given for that purpose; null when there is none.
 */
export function openTokens(path: string, split: 'train' | 'val', orItself = true): TokenStream | null {
  if (!existsSync(path)) throw new UserError(`${path}: no such token directory`);
  const isOutput = existsSync(join(path, '_tokens.json')) || isDirectory(join(path, split));
  if (!isOutput && !orItself) return null;
  const dir = isOutput ? join(path, split) : path;
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((n) => n.endsWith('.arrow')).sort();
  if (files.length === 0) return null;
  const parts = files.map((f) => readTokenShard(join(dir, f)));
  const info = parts[0].info;
  for (const [i, p] of parts.entries()) {
    if (p.info.tokenizer !== info.tokenizer) throw new UserError(`${join(dir, files[i])}: made by another tokenizer than ${files[0]}`);
  }
  const total = parts.reduce((n, p) => n + p.tokens.length, 0);
  const tokens = info.vocabSize > 65536 ? new Uint32Array(total) : new Uint16Array(total);
  let at = 0;
  for (const p of parts) {
    tokens.set(p.tokens, at);
    at += p.tokens.length;
  }
  const summaryFile = isOutput ? join(path, '_tokens.json') : join(dirname(dir), '_tokens.json');
  let bytesPerToken: number | null = null;
  let tokenizer: string | null = null;
  if (existsSync(summaryFile)) {
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as TokensSummary;
    const counts = s.splits[isOutput ? split : (basename(dir) as 'train' | 'val')];
    if (counts?.tokens) bytesPerToken = counts.bytes / counts.tokens;
    tokenizer = s.tokenizer;
  }
  return { dir, tokens, vocabSize: info.vocabSize, endOfText: info.endOfText, tokenizerId: info.tokenizer, bytesPerToken, tokenizer };
}

/** A position in [0, n) fixed by (seed, step, micro, row). */
function position(seed: number, step: number, micro: number, row: number, n: number): number {
  const h = mix32(hashString(`${step}:${micro}:${row}`, 0, undefined, mix32(seed + 0x9e3779b9)));
  const l = mix32(h ^ 0x85ebca6b);
  return Math.floor(((h * 4294967296 + l) / 18446744073709552000) * n);
}

export interface Batch {
  ids: Int32Array;
  targets: Int32Array;
  /** Per-target loss weights (SFT: 1 on the assistant's tokens, 0 elsewhere); absent: every target counts. */
  weights?: Float32Array;
}

/**
 * The training batch of a step (and micro-batch): B random windows; with `blend`, its first
 * round(B x share) rows come from the blend's stream (annealing on high-quality data).
 */
export function trainBatch(s: TokenStream, seed: number, step: number, micro: number, B: number, T: number, blend?: { stream: TokenStream; share: number }): Batch {
  const fromBlend = blend ? Math.round(B * blend.share) : 0;
  for (const x of blend ? [s, blend.stream] : [s]) {
    if (x.tokens.length - T - 1 <= 0) throw new UserError(`${x.dir}: ${x.tokens.length} tokens, fewer than a context of ${T} + 1`);
  }
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let r = 0; r < B; r++) {
    const src = r < fromBlend && blend ? blend.stream : s;
    const o = position(seed, step, micro, r, src.tokens.length - T);
    for (let t = 0; t < T; t++) {
      ids[r * T + t] = src.tokens[o + t];
      targets[r * T + t] = src.tokens[o + t + 1];
    }
  }
  return { ids, targets };
}

/** Evaluation batch j of n: windows spread evenly over the stream (the same every time). */
export function evalBatch(s: TokenStream, j: number, n: number, B: number, T: number): Batch {
  const span = s.tokens.length - T - 1;
  if (span <= 0) throw new UserError(`${s.dir}: ${s.tokens.length} tokens, fewer than a context of ${T} + 1`);
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let r = 0; r < B; r++) {
    const o = Math.floor(((j * B + r) / (n * B)) * span);
    for (let t = 0; t < T; t++) {
      ids[r * T + t] = s.tokens[o + t];
      targets[r * T + t] = s.tokens[o + t + 1];
    }
  }
  return { ids, targets };
}

export const isDirectory = (p: string) => existsSync(p) && statSync(p).isDirectory();
