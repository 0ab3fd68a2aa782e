/** Text from a checkpoint: the prompt's tokens, then sampled ones (temperature, top-k, a seed). */
import * as tf from '@tensorflow/tfjs-core';
import type * as z from 'zod';
import { UserError } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { useBackend, type BackendChoice } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import type { generateOptions } from './checkpoint-options.js';
import { GPT } from './model.js';
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
  const out: number[] = [];
  const T = ck.state.model.context;
  try {
    for (let i = 0; i < o.max_tokens; i++) {
      const window = ids.slice(-T);
      const last = tf.tidy(() => {
        const x = tf.tensor2d(Int32Array.from(window), [1, window.length], 'int32');
        const all = model.forward(x);
        return tf.slice(all, [window.length - 1, 0], [1, -1]);
      });
      releaseKept();
      // Read without blocking: on WebGPU a tensor cannot be read synchronously.
      const logits = (await last.data()) as Float32Array;
      last.dispose();
      const next = sample(logits, o.temperature, o.top_k, random);
      if (next === eot) break;
      ids.push(next);
      out.push(next);
    }
  } finally {
    model.dispose();
  }
  return { text: tokenizer.decode(out), tokens: out };
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
