/**
 * Bench `post-training`: the tiny preset (configs/tiny.yaml's shape, a 4,096-token vocabulary)
 * pretrained on the Brown and UDHR text, then post-trained on `refinery sample-chat`'s tasks:
 *
 *   A. held-out answers (greedy) before SFT: share ending with <|end|>, share exactly right;
 *   B. SFT with one conversation per row and with packing, at equal steps: rows, time,
 *      held-out loss on the assistant's tokens, answers ending with <|end|>, exact genre
 *      answers against the majority-class rate and a word-count classifier (bench/genre-baseline.ts);
 *   C. from the SFT model, K more steps of SFT (on the same conversations) against K steps of
 *      DPO: held-out preference accuracy (the policy gives the chosen answer the higher
 *      probability), per task, per kind of rejected answer, and the mean of the two tasks; the
 *      genre pairs also against the word-count classifier.
 *
 *   npm run bench -- post-training [--pretrain-steps 600] [--sft-steps 300] [--dpo-steps 100] [--more-lr 1e-3] [--sft-weight 0] [--ref-sync-steps 0] [--packings row,pack] [--out DIR]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pretrainForChat } from '../datasets/chat-pretrain.js';
import { buildSampleChat, writeSampleChat, type PreferencePair } from '../datasets/sample-chat.js';
import { Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { CHAT_SPECIALS } from '../trainer/chat-template.js';
import { loadCheckpoint } from '../trainer/checkpoint.js';
import { dpo, pairRows, scorePairs, wholePairs, type PreferenceScore } from '../trainer/dpo.js';
import { GPT } from '../trainer/model.js';
import { dpoOptions, sftOptions } from '../trainer/post-options.js';
import { openChatStart, scoreAnswers, sft, summarizeAnswers, type AnswerScore } from '../trainer/sft.js';
import { naiveBayesGenre } from './genre-baseline.js';
import { arg } from './harness.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export async function main(args: string[]): Promise<void> {
  const out = arg(args, 'out', mkdtempSync(join(tmpdir(), 'refinery-post-bench-')));
  const pretrainSteps = Number(arg(args, 'pretrain-steps', '600'));
  const sftSteps = Number(arg(args, 'sft-steps', '300'));
  const dpoSteps = Number(arg(args, 'dpo-steps', '100'));
  // The same peak learning rate for the K more steps of SFT and of DPO (1e-3 moved this tiny model further than 3e-4 in 80 steps).
  const moreLr = Number(arg(args, 'more-lr', '1e-3'));
  const log = (l: string) => process.stderr.write(`${l}\n`);
  mkdirSync(out, { recursive: true });
  let t = performance.now();
  const pre = await pretrainForChat(join(out, 'pre'), { vocab: 4096, context: 128, d_model: 128, layers: 4, heads: 4, batch_size: 16, steps: pretrainSteps, lr: 3e-3 }, log);
  console.log(`pretraining: ${pretrainSteps} steps, validation loss ${pre.result.val_loss?.toFixed(3)}, ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const chatTok = join(out, 'chat-tokenizer.json');
  writeFileSync(chatTok, Tokenizer.load(pre.tokenizer).withSpecials([...CHAT_SPECIALS]).toJson());
  const data = join(out, 'chat');
  await writeSampleChat(data);
  const sample = await buildSampleChat();
  const held = sample.sft.heldout;
  const genreHeld = held.filter((x) => x.task === 'genre');
  const trainCounts = new Map<string, number>();
  for (const x of sample.sft.train) if (x.task === 'genre') trainCounts.set(x.messages[1].content, (trainCounts.get(x.messages[1].content) ?? 0) + 1);
  const majority = [...trainCounts].sort((a, b) => b[1] - a[1])[0][0];
  const majorityRate = genreHeld.filter((x) => x.messages[1].content === majority).length / genreHeld.length;
  const wordCounts = naiveBayesGenre(
    sample.sft.train.filter((x) => x.task === 'genre'),
    sample.pairs.heldout.filter((p) => p.task === 'genre'),
    genreHeld,
  );

  const answers = async (ck: string | null): Promise<{ all: AnswerScore; genre: AnswerScore }> => {
    const start = ck ? null : openChatStart(pre.checkpoint, chatTok, 'bench');
    const c = ck ? loadCheckpoint(ck, false) : null;
    const gpt = c ? new GPT(c.state.model, c.weights) : new GPT(start!.model, start!.weights);
    const tok = Tokenizer.load(chatTok);
    const all = await scoreAnswers(gpt, tok, held.map((x) => x.messages), held.length);
    gpt.dispose();
    const genre = summarizeAnswers(all.each.filter((_, i) => held[i].task === 'genre'));
    return { all: { ...all, each: [] }, genre: { ...genre, each: [] } };
  };
  const before = await answers(null);
  console.log(`A. before SFT: ${held.length} held-out prompts: ${pct(before.all.ended)} end with <|end|>, ${pct(before.all.exact)} exact`);

  const runs: Record<string, { rows: number; seconds: number; val: number | null; a: { all: AnswerScore; genre: AnswerScore } }> = {};
  for (const packing of arg(args, 'packings', 'row,pack').split(',') as ('row' | 'pack')[]) {
    t = performance.now();
    const o = sftOptions.parse({ from: pre.checkpoint, tokenizer: chatTok, data: join(data, 'sft-train.jsonl'), val_data: join(data, 'sft-heldout.jsonl'), out: join(out, `sft-${packing}`), packing, steps: sftSteps, eval_every: sftSteps, answers: 0, resume: false });
    const r = await sft(o, log);
    runs[packing] = { rows: r.rows, seconds: (performance.now() - t) / 1000, val: r.val_loss, a: await answers(join(out, `sft-${packing}`, 'checkpoint')) };
  }
  console.log(`B. SFT, ${sftSteps} steps of 16 rows (tiny preset); held-out genre majority-class rate ${pct(majorityRate)} ("${majority}"), word counts (naive Bayes) ${pct(wordCounts.exact)}`);
  console.log('   packing | rows | s    | held-out loss | ends <|end|> | exact (all) | exact genre');
  for (const [k, r] of Object.entries(runs)) {
    console.log(`   ${k.padEnd(7)} | ${String(r.rows).padEnd(4)} | ${r.seconds.toFixed(0).padEnd(4)} | ${r.val?.toFixed(4)}        | ${pct(r.a.all.ended).padEnd(12)} | ${pct(r.a.all.exact).padEnd(11)} | ${pct(r.a.genre.exact)}`);
  }

  // C: K more steps from the SFT model, of SFT or of DPO.
  const sftCk = join(out, 'sft-row', 'checkpoint');
  const tok = Tokenizer.load(chatTok);
  const heldPairs = sample.pairs.heldout;
  // Summed log-probabilities (DPO's own measure) and per answer token (not favouring a short answer); pairs with a cut answer left out, ties counted half.
  const prefAcc = async (ck: string, pairs: PreferencePair[]): Promise<PreferenceScore> => {
    const c = loadCheckpoint(ck, false);
    const gpt = new GPT(c.state.model, c.weights);
    const T = c.state.model.context;
    const asked = pairs.map((p) => ({ prompt: [{ role: 'user' as const, content: p.prompt }], chosen: p.chosen, rejected: p.rejected }));
    const rows = pairRows(asked, tok, T);
    const s = await scorePairs(gpt, rows, new Float32Array(rows.rows), 0.1, 8, T, wholePairs(asked, tok, T));
    gpt.dispose();
    return s;
  };
  const more = sftOptions.parse({ from: sftCk, data: join(data, 'sft-train.jsonl'), out: join(out, 'sft-more'), steps: dpoSteps, lr: moreLr, answers: 0, resume: false });
  await sft(more, log);
  const d = dpoOptions.parse({ from: sftCk, data: join(data, 'pairs-train.jsonl'), val_data: join(data, 'pairs-heldout.jsonl'), out: join(out, 'dpo'), steps: dpoSteps, lr: moreLr, sft_weight: Number(arg(args, 'sft-weight', '0')), ref_sync_steps: Number(arg(args, 'ref-sync-steps', '0')), eval_every: dpoSteps, resume: false });
  t = performance.now();
  await dpo(d, log);
  const dpoSeconds = (performance.now() - t) / 1000;
  const tasks: [string, PreferencePair[]][] = [
    ['all', heldPairs],
    ['genre', heldPairs.filter((p) => p.task === 'genre')],
    ['translate', heldPairs.filter((p) => p.task === 'translate')],
    ['  untranslated', heldPairs.filter((p) => p.rejected_kind === 'untranslated')],
    ['  other language', heldPairs.filter((p) => p.rejected_kind === 'other-language')],
  ];
  console.log(`C. held-out preference accuracy, ${dpoSteps} more steps from the SFT model at peak lr ${moreLr} (DPO: ${dpoSeconds.toFixed(0)} s, 8 pairs = 16 rows per step; SFT: 16 rows per step)`);
  console.log('   pairs (scored, cut, ties)     | SFT model      | + SFT steps    | + DPO steps     (summed / per token)');
  const result: Record<string, PreferenceScore[]> = {};
  const cell = (acc: number, perToken: number) => `${pct(acc)} / ${pct(perToken)}`.padEnd(14);
  for (const [name, pairs] of tasks) {
    const row = [await prefAcc(sftCk, pairs), await prefAcc(join(out, 'sft-more', 'checkpoint'), pairs), await prefAcc(join(out, 'dpo', 'checkpoint'), pairs)];
    result[name.trim()] = row;
    console.log(`   ${`${name} (${row[0].pairs}, ${row[0].cut}, ${row.map((s) => s.ties).join('/')})`.padEnd(29)} | ${row.map((s) => cell(s.pref_acc, s.pref_acc_per_token)).join(' | ')}`);
  }
  // The two tasks weigh the same here: pooled, the 298 genre pairs would hide the translation pairs.
  const mean = [0, 1, 2].map((k) => ({ acc: (result.genre[k].pref_acc + result.translate[k].pref_acc) / 2, perToken: (result.genre[k].pref_acc_per_token + result.translate[k].pref_acc_per_token) / 2 }));
  console.log(`   ${'mean of the two tasks'.padEnd(29)} | ${mean.map((m) => cell(m.acc, m.perToken)).join(' | ')}`);
  console.log(`   genre pairs by word counts (naive Bayes on the training passages, no model): ${pct(wordCounts.pairwise)}`);
  const after = await answers(join(out, 'dpo', 'checkpoint'));
  console.log(`   after DPO: ${pct(after.all.ended)} of held-out answers end with <|end|>, ${pct(after.genre.exact)} exact genre`);
  writeFileSync(join(out, 'post-training.json'), `${JSON.stringify({ before, runs, majority, majorityRate, genre_word_counts: wordCounts, preference: result, preference_task_mean: mean, after }, null, 1)}\n`);
  console.log(`post-training: ${out}/post-training.json`);
}
