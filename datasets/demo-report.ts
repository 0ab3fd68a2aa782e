/**
 * The demo's report (out/demo/report.md): what each stage kept and why, the mix, the data the
 * model saw, how it trained, what annealing on the high-quality subset did, the evaluation, and
 * post-training (SFT, DPO, one chat answer), with the charts the run drew. Built from the run's own files, so it says what happened, not what should have.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { funnelOf, funnelTable } from '../pipeline/inspect/funnel.js';
import type { MixReport } from '../pipeline/mix/index.js';
import { mixTable } from '../pipeline/mix/report.js';
import type { TokensSummary } from '../pipeline/tokenize/index.js';
import { annealTable, type AnnealReport } from '../trainer/anneal.js';
import { readMetrics, type MetricLine } from '../trainer/report.js';

const json = <T>(file: string): T | null => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null);
const metricsOf = (file: string) => (existsSync(file) ? (readMetrics(file) as (MetricLine & Record<string, number>)[]) : []);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const block = (text: string) => `\`\`\`\n${text}\n\`\`\``;

export function writeDemoReport(out: string, stageDirs: readonly string[]): string {
  const parts: string[] = ['# refinery demo report', '', `Written ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC from the files of this run in \`${out}\`.`, ''];
  parts.push('## The funnel', '', 'Documents and bytes into and out of every stage, and what each filter removed, with its reasons.', '', block(funnelTable(funnelOf(stageDirs))), '', '![funnel](funnel.svg)', '');
  const decon = json<{ n: number; documents: number; suites: { name: string; items: number; contaminated: number }[]; items: { id: string; documents: number }[] }>(join(out, 'contamination.json'));
  if (decon) {
    const found = decon.items.filter((i) => i.documents > 0).map((i) => `${i.id} (${i.documents})`);
    parts.push('## Decontamination', '', `The bundled UDHR-articles task against the pages that passed the quality rules, with six of its sentences planted (${decon.n}-gram overlap, GPT-3's rule): \`decon\` in the funnel excludes the pages that hold them.`, '', block(decon.suites.map((s) => `${s.name}: ${s.contaminated} of ${s.items} questions found in ${decon.documents} documents; items (documents): ${found.join(', ') || 'none'}`).join('\n')), '');
  }
  const mix = json<{ report: MixReport }>(join(out, 'mix', '_mix.json'));
  if (mix) parts.push('## The mix', '', 'Domains before and after temperature sampling (T = 2), by bytes of text.', '', block(mixTable(mix.report)), '', '![mix](mix.svg)', '');
  const tokens = json<TokensSummary>(join(out, 'tokens', '_tokens.json'));
  const hq = json<TokensSummary>(join(out, 'tokens-hq', '_tokens.json'));
  if (tokens && hq) {
    parts.push('## Tokens', '', `Tokenizer: ${tokens.vocab_size.toLocaleString('en')} tokens (byte-level BPE).`, '');
    parts.push('| data | documents | tokens | bytes of text | bytes per token |', '|---|---|---|---|---|');
    for (const [name, s] of [['mix (pretraining)', tokens.splits.train], ['high-quality subset (annealing)', hq.splits.train], ['high-quality held out (validation)', hq.splits.val]] as const) {
      parts.push(`| ${name} | ${s.documents.toLocaleString('en')} | ${s.tokens.toLocaleString('en')} | ${s.bytes.toLocaleString('en')} | ${(s.bytes / Math.max(1, s.tokens)).toFixed(2)} |`);
    }
    parts.push('');
  }
  const card = join(out, 'hf-hq', 'README.md');
  if (existsSync(card) || tokens?.nanogpt) {
    parts.push('## Exports', '', 'The same data for other tools:', '');
    if (existsSync(card)) {
      const files = readdirSync(join(out, 'hf-hq', 'data')).sort();
      parts.push(`- [hf-hq/](hf-hq/README.md): the high-quality subset as a Hugging Face dataset folder (${files.length} zstd Parquet files in [hf-hq/data/](hf-hq/data), and its [dataset card](hf-hq/README.md)); \`load_dataset("${out}/hf-hq")\`.`);
    }
    if (tokens?.nanogpt) {
      const n = tokens.nanogpt;
      const splits = Object.entries(n.splits).map(([s, f]) => `[${f.file}](tokens/nanogpt/${f.file}) ${f.tokens.toLocaleString('en')} tokens`).join(', ');
      parts.push(`- [tokens/nanogpt/](tokens/nanogpt/meta.json): the pretraining mix and the held-out pages as nanoGPT files: ${splits}, ${n.dtype}, vocabulary ${n.vocab_size.toLocaleString('en')} in [meta.pkl](tokens/nanogpt/meta.pkl) / [meta.json](tokens/nanogpt/meta.json).`);
    }
    parts.push('');
  }
  const lines = metricsOf(join(out, 'train', 'metrics.jsonl'));
  if (lines.length) {
    const last = lines[lines.length - 1];
    const firstVal = lines.find((l) => l.val_loss !== undefined);
    parts.push('## Pretraining', '');
    parts.push(`${last.step} steps, ${last.tokens.toLocaleString('en')} tokens at ${last.tokens_per_s?.toLocaleString('en')} tokens/s (MFU ${((last.mfu ?? 0) * 100).toFixed(1)}%). Training loss ${lines[0].loss} → ${last.loss}; validation loss on the held-out high-quality pages ${firstVal?.val_loss} (step ${firstVal?.step}) → ${last.val_loss} (${last.val_bpb} bits per byte).`, '', '![loss](train/loss.svg)', '');
  }
  const anneal = json<AnnealReport>(join(out, 'anneal', 'anneal.json'));
  if (anneal) {
    parts.push('## Annealing', '', `From the pretraining checkpoint, ${anneal.steps} more steps with the learning rate decaying to zero: on the high-quality subset, and (the control) on the mix. Equal compute; both scored on the held-out high-quality pages.`, '', block(annealTable(anneal)), '');
  }
  const evalTable = join(out, 'eval', 'results.md');
  if (existsSync(evalTable)) {
    // The table refinery eval -o wrote, without its marker and title.
    const body = readFileSync(evalTable, 'utf8').split('\n').filter((l) => !l.startsWith('<!--') && !l.startsWith('# ')).join('\n').trim();
    parts.push('## Evaluation', '', 'The annealed model on the bundled UDHR-articles task (`refinery eval --tasks ... -o eval`, [results.json](eval/results.json)); the contaminated columns score apart the questions the decontamination report found in the crawl.', '', body, '');
  }
  parts.push(...postTraining(out));
  const file = join(out, 'report.md');
  writeFileSync(file, `${parts.join('\n')}\n`);
  return relative(process.cwd(), file);
}

export interface ChatAnswer {
  question: string;
  expected: string;
  /** What `refinery chat --prompt` printed. */
  answer: string;
}

/** Keep the answer `refinery chat --prompt` printed (it writes no file) for the report. */
export function writeChatAnswer(out: string, a: ChatAnswer): void {
  writeFileSync(join(out, 'chat-answer.json'), `${JSON.stringify({ ...a, answer: a.answer.trim() })}\n`);
}

/**
 * SFT, DPO and the chat answer, from what the commands wrote in `out`: sft/metrics.jsonl and
 * sft/answers.json, dpo/metrics.jsonl and dpo/preference.json, and chat-answer.json. Nothing
 * when one is missing.
 */
export function postTraining(out: string): string[] {
  const sft = metricsOf(join(out, 'sft', 'metrics.jsonl'));
  const dpo = metricsOf(join(out, 'dpo', 'metrics.jsonl'));
  const answers = json<{ prompts: number; ended: number; exact: number }>(join(out, 'sft', 'answers.json'));
  const pref = json<{ pairs: number; before: { pref_acc: number; margin: number }; after: { pref_acc: number; margin: number; reward_acc: number } }>(join(out, 'dpo', 'preference.json'));
  const chat = json<ChatAnswer>(join(out, 'chat-answer.json'));
  if (!sft.length || !dpo.length || !answers || !pref || !chat) return [];
  const sftVal = sft.filter((l) => l.val_loss !== undefined).at(-1);
  const last = (m: Record<string, number>[]) => m[m.length - 1];
  const lossAt = (l: Record<string, number>) => `${l.loss.toFixed(4)} (step ${l.step})`;
  return [
    '## Post-training',
    '',
    'The annealed model made into a (tiny) assistant: `tokenizer add-special` gave the demo\'s tokenizer the chat tokens, `sample-chat` wrote the bundled conversations and preference pairs (Brown genres, UDHR translations), then a short SFT and a short DPO on parts of them (`--max-examples`), and `chat --prompt` answered one held-out question. A few seconds of training: the flow is real, the answers are a 1.3M-parameter model\'s.',
    '',
    '| measure | value |',
    '|---|---|',
    `| SFT | ${last(sft).step} steps; training loss on the assistant's tokens ${lossAt(sft[0])} → ${lossAt(last(sft))} |`,
    `| SFT held-out loss on the assistant's tokens | ${sftVal?.val_loss?.toFixed(4) ?? '—'} |`,
    `| held-out answers ending with \`<\\|end\\|>\` (greedy) | ${pct(answers.ended)} of ${answers.prompts} (exactly right: ${pct(answers.exact)}) |`,
    `| DPO | ${last(dpo).step} steps; loss ${lossAt(dpo[0])} → ${lossAt(last(dpo))} |`,
    `| held-out preference accuracy (policy prefers the chosen answer), ${pref.pairs} pairs | ${pct(pref.before.pref_acc)} (SFT model) → ${pct(pref.after.pref_acc)} (after DPO) |`,
    `| held-out reward margin, reward accuracy | ${pref.after.margin.toFixed(3)}, ${pct(pref.after.reward_acc)} |`,
    '',
    '`refinery chat --checkpoint dpo/checkpoint --prompt ...` on a held-out passage:',
    '',
    block(`you> ${chat.question}\nmodel> ${chat.answer || '(nothing: the model closed its answer with <|end|> at once)'}`),
    '',
    `Expected: ${chat.expected}. Curves in [sft/loss.svg](sft/loss.svg) and [dpo/loss.svg](dpo/loss.svg).`,
    '',
  ];
}
