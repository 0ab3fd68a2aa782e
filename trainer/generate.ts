/** Text from a checkpoint: the prompt's tokens, then sampled ones (temperature, top-k, a seed). */
import * as tf from '@tensorflow/tfjs-core';
import type * as z from 'zod';
import { UserError } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { useBackend, type BackendChoice } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import type { generateOptions } from './checkpoint-options.js';
import { GPT, KvCache } from './model.js';
import { releaseKept } from './ops.js';

export type GenerateOptions = z.infer<typeof generateOptions> & { backend?: BackendChoice };

export async function generate(o: GenerateOptions): Promise<{ text: string; tokens: number[] }> {
  await useBackend(o.backend ?? 'auto');
  const ck = loadCheckpoint(o.checkpoint, false);
  const tokFile = o.tokenizer ?? ck.state.tokenizer;
  if (!tokFile) throw new UserError(`${o.checkpoint}: the checkpoint does not name its tokenizer; give --tokenizer`);
  const tokenizer = Tokenizer.load(tokFile);
  const model = new GPT(ck.state.model, ck.weights);
  const random = new Random(o.seed);
  const eot = tokenizer.specials.get(END_OF_TEXT);
  const ids = o.prompt ? tokenizer.encode(o.prompt) : eot !== undefined ? [eot] : [];
  if (ids.length === 0) throw new UserError('generate: an empty prompt needs a tokenizer with <|endoftext|>');
  try {
    const { ids: out } = await continueIds(model, ids, o.max_tokens, { temperature: o.temperature, top_k: o.top_k, random }, new Set(eot === undefined ? [] : [eot]), true);
    return { text: tokenizer.decode(out), tokens: out };
  } finally {
    model.dispose();
  }
}

export interface Sampling {
  temperature: number;
  top_k: number;
  random: Random;
}

/** The logits of the last of `ids`, fed after the cache's positions; read without blocking (on WebGPU a tensor cannot be read synchronously). */
async function feed(model: GPT, cache: KvCache, ids: readonly number[]): Promise<Float32Array> {
  const last = tf.tidy(() => {
    const all = model.forwardCached(ids, cache);
    return tf.slice(all, [ids.length - 1, 0], [1, -1]);
  });
  releaseKept();
  const logits = (await last.data()) as Float32Array;
  last.dispose();
  return logits;
}

/**
 * Up to `max` tokens after `prompt`, decoded with a key-value cache (one position per new
 * token). Stops before a token of `stop` (stopped: true). At the end of the context it stops,
 * or with `slide` re-reads the last context-length tokens and goes on, as a window would.
 */
export async function continueIds(model: GPT, prompt: readonly number[], max: number, s: Sampling, stop: ReadonlySet<number>, slide = false): Promise<{ ids: number[]; stopped: boolean }> {
  const T = model.config.context;
  const cache = new KvCache();
  const out: number[] = [];
  try {
    if (max === 0) return { ids: out, stopped: false };
    let logits = await feed(model, cache, prompt.slice(-T));
    for (;;) {
      const next = sample(logits, s.temperature, s.top_k, s.random);
      if (stop.has(next)) return { ids: out, stopped: true };
      out.push(next);
      if (out.length >= max) return { ids: out, stopped: false };
      if (cache.length < T) logits = await feed(model, cache, [next]);
      else if (!slide) return { ids: out, stopped: false };
      else {
        cache.dispose();
        logits = await feed(model, cache, [...prompt, ...out].slice(-T));
      }
    }
  } finally {
    cache.dispose();
  }
}

/** A token from logits: greedy at temperature 0, else softmax(logits / T) over the top k. */
export function sample(logits: Float32Array, temperature: number, topK: number, random: Random): number {
  if (temperature <= 0) return logits.indexOf(Math.max(...logits));
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  const top = order.slice(0, topK > 0 ? topK : order.length);
  const max = logits[top[0]];
  const weights = top.map((i) => Math.exp((logits[i] - max) / temperature));
  let r = random.next() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < top.length; i++) if ((r -= weights[i]) <= 0) return top[i];
  return top[top.length - 1];
}
