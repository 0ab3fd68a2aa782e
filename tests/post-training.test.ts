/**
 * Post-training's parts against values computed by hand: the chat template and its mask, the
 * masked SFT loss on a two-turn conversation, the DPO loss and its gradient on a two-pair
 * batch, KV-cache decoding against full recomputation, and special tokens added to a trained
 * tokenizer.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { trainTokenizer } from '../pipeline/tokenize/index.js';
import { END_OF_TEXT, Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { useBackend } from '../trainer/backend.js';
import { ASSISTANT, CHAT_SPECIALS, END, USER, encodeChat } from '../trainer/chat-template.js';
import { dpoLoss, pairRows, scorePairs, sequenceLogProbs, wholePairs } from '../trainer/dpo.js';
import { favouriteWrongAnswers } from '../trainer/rejected-by.js';
import { continueIds, sample } from '../trainer/generate.js';
import { GPT, initialValues, type ModelConfig } from '../trainer/model.js';
import { releaseKept } from '../trainer/ops.js';
import { batchTensors } from '../trainer/train.js';
import { chatRows, growRows, pickRows, spreadEvenly } from '../trainer/sft.js';
import { naiveBayesGenre } from '../bench/genre-baseline.js';
import { genrePrompt, type ChatExample, type PreferencePair } from '../datasets/sample-chat.js';
import { cleanup, tempDir } from './helpers/cli.js';

const dir = tempDir('refinery-post-');
afterAll(() => cleanup(dir));
let base: Tokenizer;
let chat: Tokenizer;

beforeAll(async () => {
  await useBackend('cpu');
  const corpus = join(dir, 'corpus.txt');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(corpus, 'The user asked the assistant a question, and the assistant answered it at the end. Caf\u00e9 na\u00efve \u65e5\u672c 123.\n'.repeat(50));
  await trainTokenizer({ inputs: [corpus], output: join(dir, 'tok.json'), vocab: 300, special: [END_OF_TEXT], min_frequency: 2, max_bytes: 1 << 20 }, () => {});
  base = Tokenizer.load(join(dir, 'tok.json'));
  chat = Tokenizer.fromJson(base.withSpecials([...CHAT_SPECIALS]).toJson());
}, 60_000);

/** log softmax(logits)[target], computed in plain JavaScript (float64). */
function logProb(logits: Float32Array, V: number, row: number, target: number): number {
  const z = logits.subarray(row * V, (row + 1) * V);
  const max = Math.max(...z);
  const lse = max + Math.log(z.reduce((a, x) => a + Math.exp(x - max), 0));
  return z[target] - lse;
}

describe('special tokens', () => {
  it('add-special appends ids and keeps every existing id, merge and round trip', () => {
    const text = 'The user asked: caf\u00e9 na\u00efve \u65e5\u672c 123 <|end|> and <|user|> as plain text.';
    expect(chat.vocabSize).toBe(base.vocabSize + 3);
    expect(CHAT_SPECIALS.map((n) => chat.special(n))).toEqual([base.vocabSize, base.vocabSize + 1, base.vocabSize + 2]);
    for (let id = 0; id < base.vocabSize; id++) expect(Buffer.from(chat.tokenBytes[id]).equals(Buffer.from(base.tokenBytes[id])), `id ${id}`).toBe(true);
    expect(chat.special(END_OF_TEXT)).toBe(base.special(END_OF_TEXT));
    expect(chat.encode(text)).toEqual(base.encode(text));
    expect(chat.decode(chat.encode(text))).toBe(text);
    // Text never becomes a special token, and adding them again changes nothing.
    expect(chat.encode(text)).not.toContain(chat.special(END));
    expect(chat.withSpecials([...CHAT_SPECIALS]).toJson()).toBe(chat.toJson());
  });

  it('grows an embedding with new rows at the mean of the old', () => {
    const t = Float32Array.from([1, 2, 3, 4, 5, 9]);
    expect(Array.from(growRows(t, 3, 5, 2))).toEqual([1, 2, 3, 4, 5, 9, 3, 5, 3, 5]);
  });
});

describe('a part of a data file (--max-examples)', () => {
  it('keeps each task\'s share, in order, and all records when the limit is not smaller', () => {
    // Written task by task, as sample-chat writes: 298 genre records, then 15 translations.
    const records = [...Array.from({ length: 298 }, (_, i) => `genre-${i}`), ...Array.from({ length: 15 }, (_, i) => `translate-${i}`)];
    const part = spreadEvenly(records, 40);
    expect(part).toHaveLength(40);
    expect(new Set(part).size).toBe(40);
    expect(part.map((r) => records.indexOf(r))).toEqual([...part.map((r) => records.indexOf(r))].sort((a, b) => a - b));
    // 15 of 313 are translations: 1.9 in 40, so 2, where the first 40 records would hold none.
    expect(part.filter((r) => r.startsWith('translate')).length).toBe(2);
    expect(spreadEvenly(records, 313)).toEqual(records);
    expect(spreadEvenly(records, undefined)).toEqual(records);
  });
});

describe("the genre task's word-count reference (bench/genre-baseline.ts)", () => {
  it('scores pairs and passages by naive Bayes with add-one smoothing and the training prior', () => {
    const ask = (passage: string, genre: string): ChatExample => ({ task: 'genre', messages: [{ role: 'user', content: genrePrompt(passage) }, { role: 'assistant', content: genre }] });
    const pairOf = (passage: string, chosen: string, rejected: string): PreferencePair => ({ task: 'genre', rejected_kind: 'other-genre', prompt: genrePrompt(passage), chosen, rejected });
    // Vocabulary {apple, fig, pear} (lower-cased). news: 3 words in 2 passages (prior 2/3); fiction: 1 word in 1 (1/3).
    // "apple": news 2/3 x (2+1)/(3+3) = 1/3 > fiction 1/3 x (0+1)/(1+3) = 1/12.
    // "pear pear": news 2/3 x (1/6)^2 = 1/54 < fiction 1/3 x (2/4)^2 = 1/12.
    // "fig": news 2/3 x (1+1)/6 = 2/9 > fiction 1/3 x 1/4 = 1/12, so a fig passage labelled fiction is missed.
    // "kiwi" (unseen): news 2/3 x 1/6 = 1/9 > fiction 1/3 x 1/4 = 1/12, by the prior alone (without it fiction would win).
    const train = [ask('apple apple', 'news'), ask('Fig', 'news'), ask('pear', 'fiction')];
    const pairs = [pairOf('apple', 'news', 'fiction'), pairOf('pear pear', 'news', 'fiction'), pairOf('pear pear', 'fiction', 'news'), pairOf('fig', 'fiction', 'news'), pairOf('kiwi', 'news', 'fiction')];
    const held = [ask('apple', 'news'), ask('pear pear', 'fiction'), ask('fig', 'fiction'), ask('kiwi', 'news')];
    const r = naiveBayesGenre(train, pairs, held);
    expect(r.pairwise).toBe(3 / 5);
    expect(r.exact).toBe(3 / 4);
    expect(() => naiveBayesGenre(train, [pairOf('apple', 'humor', 'news')], held)).toThrow(/no training passage of genre "humor"/);
  });
});

describe('chat template and masked loss', () => {
  it('masks everything but the assistant tokens; the loss equals the hand-computed one on a two-turn conversation', () => {
    const messages = [
      { role: 'user' as const, content: 'The question' },
      { role: 'assistant' as const, content: 'The answer' },
      { role: 'user' as const, content: 'Another' },
      { role: 'assistant' as const, content: 'at the end' },
    ];
    const enc = encodeChat(chat, messages);
    const [u, a, e, eot] = [chat.special(USER), chat.special(ASSISTANT), chat.special(END), chat.special(END_OF_TEXT)];
    const expected = [eot, u, ...chat.encode('The question'), e, a, ...chat.encode('The answer'), e, u, ...chat.encode('Another'), e, a, ...chat.encode('at the end'), e];
    expect(enc.ids).toEqual(expected);
    const trainedIds = enc.ids.filter((_, i) => enc.trained[i]);
    expect(trainedIds).toEqual([...chat.encode('The answer'), e, ...chat.encode('at the end'), e]);

    const c: ModelConfig = { vocab_size: chat.vocabSize, context: 48, d_model: 16, layers: 1, heads: 2 };
    expect(enc.ids.length).toBeLessThanOrEqual(c.context + 1);
    const model = new GPT(c, initialValues(c, 3));
    const rows = chatRows([enc], c.context, e, false);
    const b = pickRows(rows, [0], c.context);
    const t = batchTensors(b, c.context);
    const loss = model.loss(t.ids, t.targets, t.weights).dataSync()[0];
    const logits = model.forward(t.ids).dataSync() as Float32Array;
    releaseKept();
    // By hand: the mean of -log p over the positions whose next token is the assistant's.
    let sum = 0;
    let n = 0;
    for (let i = 0; i + 1 < enc.ids.length; i++) {
      if (!enc.trained[i + 1]) continue;
      sum -= logProb(logits, c.vocab_size, i, enc.ids[i + 1]);
      n++;
    }
    expect(n).toBe(trainedIds.length);
    expect(loss).toBeCloseTo(sum / n, 4);
    // Not the unmasked loss.
    const all = model.loss(t.ids, t.targets).dataSync()[0];
    releaseKept();
    expect(Math.abs(all - loss)).toBeGreaterThan(1e-3);
    model.dispose();
  });
});

describe('DPO', () => {
  it('loss and gradient equal the hand-computed ones on a two-pair batch', () => {
    const c: ModelConfig = { vocab_size: chat.vocabSize, context: 32, d_model: 16, layers: 1, heads: 2 };
    const T = c.context;
    const pairs = [
      { prompt: [{ role: 'user' as const, content: 'The question' }], chosen: 'The answer', rejected: 'Another' },
      { prompt: [{ role: 'user' as const, content: 'asked' }], chosen: 'at the end', rejected: 'The user' },
    ];
    const rows = pairRows(pairs, chat, T);
    expect(rows.rows).toBe(4);
    const batch = pickRows(rows, [0, 1, 2, 3], T);
    const reference = Float32Array.from([-20.5, -18.25, -19, -21.75]);
    const beta = 0.5;
    const values = initialValues(c, 5);
    for (const [n, v] of values) if (!/\.g$/.test(n)) for (let i = 0; i < v.length; i++) v[i] *= 10;
    const model = new GPT(c, values);

    // By hand: each row's summed log-probability of its answer tokens, then the formula.
    const t = batchTensors(batch, T);
    const logits = model.forward(t.ids).dataSync() as Float32Array;
    releaseKept();
    const seq = [0, 1, 2, 3].map((r) => {
      let s = 0;
      for (let i = 0; i < T; i++) if (batch.weights[r * T + i]) s += logProb(logits, c.vocab_size, r * T + i, batch.targets[r * T + i]);
      return s;
    });
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    const margins = [0, 1].map((i) => beta * (seq[i] - reference[i] - (seq[i + 2] - reference[i + 2])));
    const hand = margins.reduce((a, m) => a - Math.log(sigmoid(m)), 0) / 2;

    const policy = tf.tensor1d(seq);
    expect(dpoLoss(policy as tf.Tensor1D, reference, beta).dataSync()[0]).toBeCloseTo(hand, 5);
    // The gradient with respect to the sequence log-probabilities: -beta sigma(-m) / P for chosen, +beta sigma(-m) / P for rejected.
    const g = tf.grad((x: tf.Tensor) => dpoLoss(x as tf.Tensor1D, reference, beta))(policy).dataSync();
    const handGrad = [0, 1].map((i) => (-beta * sigmoid(-margins[i])) / 2);
    expect(Array.from(g)).toEqual([handGrad[0], handGrad[1], -handGrad[0], -handGrad[1]].map((x) => expect.closeTo(x, 6)));
    // With RPO's term: + weight x the chosen answers' NLL per token; its gradient adds -weight / tokens on each chosen row only.
    const sft = { weight: 0.5, chosenTokens: 7 };
    expect(dpoLoss(policy as tf.Tensor1D, reference, beta, sft).dataSync()[0]).toBeCloseTo(hand + (0.5 * -(seq[0] + seq[1])) / 7, 5);
    const gs = tf.grad((x: tf.Tensor) => dpoLoss(x as tf.Tensor1D, reference, beta, sft))(policy).dataSync();
    expect(Array.from(gs)).toEqual([handGrad[0] - 0.5 / 7, handGrad[1] - 0.5 / 7, -handGrad[0], -handGrad[1]].map((x) => expect.closeTo(x, 6)));

    // Through the model: the loss from sequenceLogProbs matches, and its gradient matches finite differences of the hand formula.
    const vars = [...model.params.values()];
    const through = tf.variableGrads(() => dpoLoss(sequenceLogProbs(model, batch, T), reference, beta), vars);
    releaseKept();
    expect(through.value.dataSync()[0]).toBeCloseTo(hand, 4);
    const w = model.params.get('h0.fc.w') as tf.Variable;
    const gw = through.grads[w.name].dataSync();
    const base0 = w.dataSync().slice();
    const lossAt = () => {
      const l = tf.tidy(() => dpoLoss(sequenceLogProbs(model, batch, T), reference, beta).dataSync()[0]);
      releaseKept();
      return l;
    };
    const r = new Random(2);
    for (let k = 0; k < 5; k++) {
      const i = r.int(0, base0.length - 1);
      const moved = base0.slice();
      moved[i] += 1e-2;
      w.assign(tf.tensor(moved, w.shape));
      const up = lossAt();
      moved[i] -= 2e-2;
      w.assign(tf.tensor(moved, w.shape));
      const down = lossAt();
      w.assign(tf.tensor(base0, w.shape));
      expect(Math.abs((up - down) / 2e-2 - gw[i]), `fc.w[${i}]`).toBeLessThan(2e-3 + 0.05 * Math.abs(gw[i]));
    }
    model.dispose();
  });

  it('held-out preference accuracy counts a tie half, leaves out a pair with a cut answer and has a per-token form', async () => {
    const c: ModelConfig = { vocab_size: chat.vocabSize, context: 32, d_model: 16, layers: 1, heads: 2 };
    const T = c.context;
    const q = [{ role: 'user' as const, content: 'The question' }];
    const pairs = [
      { prompt: q, chosen: 'The answer', rejected: 'The answer' }, // identical answers: a tie, not a loss
      { prompt: q, chosen: 'at the end', rejected: 'The user asked the assistant a question, and the assistant answered it at the end, twice over.' }, // rejected cut at T
      { prompt: q, chosen: 'asked', rejected: 'The user asked' },
    ];
    const whole = wholePairs(pairs, chat, T);
    expect(whole).toEqual([true, false, true]);
    const model = new GPT(c, initialValues(c, 3));
    const rows = pairRows(pairs, chat, T);
    const lp = sequenceLogProbs(model, pickRows(rows, [0, 1, 2, 3, 4, 5], T), T).dataSync();
    releaseKept();
    const tokens = [0, 1, 2, 3, 4, 5].map((r) => rows.weights.subarray(r * T, (r + 1) * T).reduce((a, w) => a + w, 0));
    const s = await scorePairs(model, rows, new Float32Array(6), 0.1, 2, T, whole);
    expect(s.pairs).toBe(2);
    expect(s.cut).toBe(1);
    expect(s.ties).toBe(1);
    expect(s.pref_acc).toBeCloseTo((0.5 + (lp[2] > lp[5] ? 1 : 0)) / 2, 6);
    expect(s.pref_acc_per_token).toBeCloseTo((0.5 + (lp[2] / tokens[2] > lp[5] / tokens[5] ? 1 : 0)) / 2, 6);
    model.dispose();
  });

  it("on-policy rejected answers: each question's wrong candidate the model ranks highest, by summed log-probability", async () => {
    const c: ModelConfig = { vocab_size: chat.vocabSize, context: 32, d_model: 16, layers: 1, heads: 2 };
    const T = c.context;
    const model = new GPT(c, initialValues(c, 5));
    const candidates = ['asked', 'answered', 'the end', 'a question', 'twice'];
    const questions = ['The user asked', 'Which one?', 'Caf\u00e9 na\u00efve'].map((prompt, i) => ({ prompt, right: candidates[i], candidates }));
    const got = await favouriteWrongAnswers(model, chat, questions, T, 3);
    // Each candidate scored on its own, as DPO scores an answer: the argmax among the wrong ones.
    for (const [i, q] of questions.entries()) {
      const wrong = candidates.filter((a) => a !== q.right);
      const rows = pairRows(wrong.map((a) => ({ prompt: [{ role: 'user' as const, content: q.prompt }], chosen: a, rejected: a })), chat, T);
      const lp = sequenceLogProbs(model, pickRows(rows, wrong.map((_, k) => k), T), T).dataSync();
      releaseKept();
      const best = wrong[lp.indexOf(Math.max(...lp))];
      expect(got[i]).toBe(best);
      expect(got[i]).not.toBe(q.right);
    }
    model.dispose();
  });
});

/** Greedy decoding by recomputing the whole sequence for every token (the reference). */
function greedyFull(model: GPT, prompt: number[], n: number): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const logits = tf.tidy(() => {
      const all = model.forward(tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32'));
      return tf.slice(all, [ids.length - 1, 0], [1, -1]).dataSync() as Float32Array;
    });
    releaseKept();
    const next = sample(logits, 0, 0, new Random(1));
    ids.push(next);
    out.push(next);
  }
  return out;
}

describe('KV cache', () => {
  it('greedy decoding gives exactly the tokens of full recomputation over 50 tokens', async () => {
    const c: ModelConfig = { vocab_size: 40, context: 64, d_model: 32, layers: 2, heads: 4 };
    // Weights 5x GPT-2's scale: a model whose greedy path moves around rather than repeating one token.
    const values = initialValues(c, 7);
    for (const [n, v] of values) if (!/\.g$/.test(n)) for (let i = 0; i < v.length; i++) v[i] *= 5;
    const model = new GPT(c, values);
    const prompt = [3, 17, 5, 29, 11];
    const full = greedyFull(model, prompt, 50);
    const cached = await continueIds(model, prompt, 50, { temperature: 0, top_k: 0, random: new Random(1) }, new Set());
    expect(cached.ids).toEqual(full);
    expect(new Set(full).size).toBeGreaterThan(5);
    model.dispose();
  }, 60_000);
});
