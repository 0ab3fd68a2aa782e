/**
 * A small pretrained model for post-training's tests and bench, made in one process: a
 * tokenizer and token shards from the text sample-chat's tasks come from (the Brown texts
 * that are not held out, and the UDHR declarations in English and the translation task's target languages),
 * then a GPT trained on them. The held-out Brown texts are left out, so their passages are
 * new to the model; the UDHR sentences are in the pretraining text (only the task is new).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokensSummaryFile, trainTokenizer, type TokensSummary } from '../pipeline/tokenize/index.js';
import { TokenShardWriter } from '../pipeline/tokenize/token-shards.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { tokenizerId } from '../pipeline/tokenize/index.js';
import { trainOptions } from '../trainer/config.js';
import { train, type TrainResult } from '../trainer/train.js';
import { brownTexts } from './brown.js';
import { CHAT_LANGUAGES } from './sample-chat.js';
import { udhrTexts } from './udhr.js';

const UDHR_CODES = ['eng', ...CHAT_LANGUAGES.map(([code]) => code)];

export interface PretrainOptions {
  vocab: number;
  context: number;
  d_model: number;
  layers: number;
  heads: number;
  batch_size: number;
  steps: number;
  lr: number;
}

/** dir/corpus.jsonl, dir/tokenizer.json, dir/tokens/{train,val}/, dir/pretrain/checkpoint. */
export async function pretrainForChat(dir: string, o: PretrainOptions, log: (l: string) => void = () => {}): Promise<{ checkpoint: string; tokenizer: string; result: TrainResult }> {
  mkdirSync(dir, { recursive: true });
  const docs = brownTexts()
    .filter((_, i) => i % 5 !== 4)
    .map((t) => t.text);
  for (const u of await udhrTexts()) if (UDHR_CODES.includes(u.code)) docs.push(u.text);
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, `${docs.map((text) => JSON.stringify({ text })).join('\n')}\n`);
  const tokenizer = join(dir, 'tokenizer.json');
  await trainTokenizer({ inputs: [corpus], output: tokenizer, vocab: o.vocab, special: [END_OF_TEXT], min_frequency: 2, max_bytes: 1 << 30 }, log);
  const tok = Tokenizer.load(tokenizer);
  const eot = tok.special(END_OF_TEXT);
  const info = { tokenizer: tokenizerId(tokenizer), vocabSize: tok.vocabSize, endOfText: eot };
  const splits = {} as TokensSummary['splits'];
  for (const split of ['train', 'val'] as const) {
    mkdirSync(join(dir, 'tokens', split), { recursive: true });
    const w = new TokenShardWriter(join(dir, 'tokens', split, 'part-00000.arrow'), info);
    const counts = { documents: 0, tokens: 0, bytes: 0, files: [join(split, 'part-00000.arrow')] };
    // Every 20th document is validation text.
    docs.forEach((text, i) => {
      if ((i % 20 === 19) !== (split === 'val')) return;
      const ids = tok.encode(text);
      w.write([eot, ...ids]);
      counts.documents++;
      counts.tokens += ids.length + 1;
      counts.bytes += Buffer.byteLength(text);
    });
    w.publish();
    splits[split] = counts;
  }
  // What refinery tokenize writes beside its shards: the checkpoint then names its tokenizer.
  const summary: TokensSummary = { tokenizer, tokenizer_id: info.tokenizer, vocab_size: tok.vocabSize, eot, dtype: 'uint16', splits };
  writeFileSync(tokensSummaryFile(join(dir, 'tokens')), `${JSON.stringify(summary, null, 1)}\n`);
  const out = join(dir, 'pretrain');
  const c = trainOptions.parse({
    data: join(dir, 'tokens'),
    out,
    context: o.context,
    d_model: o.d_model,
    layers: o.layers,
    heads: o.heads,
    batch_size: o.batch_size,
    steps: o.steps,
    lr: o.lr,
    min_lr: o.lr / 10,
    warmup: Math.min(50, Math.floor(o.steps / 10)),
    eval_every: o.steps,
    log_every: Math.max(1, Math.floor(o.steps / 5)),
    checkpoint_every: o.steps,
    resume: false,
  });
  const result = await train(c, log);
  return { checkpoint: join(out, 'checkpoint'), tokenizer, result };
}
