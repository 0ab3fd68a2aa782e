/** `refinery train`, `plan`, `scaling sweep|fit`, `eval`, `generate`, and post-training's `sft`, `dpo` and `chat`: thin faces over trainer/ (TensorFlow.js loads only when one runs). */
import type { Command } from 'commander';
import { parseFileAndFlags, parseOptions } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { formatCount } from '../../core/progress.js';
import { evalOptions, generateOptions } from '../../../trainer/checkpoint-options.js';
import { trainOptions as gptTrainOptions } from '../../../trainer/config.js';
import type { SuiteResult } from '../../../trainer/eval-suite.js';
import type { DocsScore, McResult } from '../../../trainer/evaluate.js';
import { planOptions } from '../../../trainer/plan.js';
import { chatOptions, dpoOptions, sftOptions } from '../../../trainer/post-options.js';
import { sweepOptions } from '../../../trainer/scaling-options.js';
import { addSchemaFlags } from '../flags.js';

export function addTrainerCommands(program: Command): void {
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
    // TensorFlow.js loads only for the commands that use it.
    const { calibrate, train } = await import('../../../trainer/train.js');
    if (values.calibrate) {
      const { useBackend } = await import('../../../trainer/backend.js');
      const partial = parseFileAndFlags(gptTrainOptions.partial(), file, pick(values), 'refinery train');
      const backend = await useBackend(partial.backend ?? 'auto', partial.native ?? true, partial.threads ?? 1);
      const d = partial.d_model ?? 128;
      const rows = (partial.batch_size ?? 16) * (partial.context ?? 128);
      console.log(`train --calibrate: ${backend.label}: ${((await calibrate(rows, d, 2)) / 1e9).toFixed(1)} GFLOP/s on [${rows} x ${d}] x [${d} x ${4 * d}] products`);
      return;
    }
    // --anneal: a decay-only continuation, whatever schedule the file gives (configs/tiny.yaml's is cosine with warmup); flags still win.
    const annealSchedule = values.anneal ? { schedule: 'wsd', decay_frac: 1, warmup: 0, min_lr: 0 } : {};
    const config = parseFileAndFlags(gptTrainOptions, file, { ...annealSchedule, ...pick(values) }, 'refinery train');
    if (values.anneal && !config.resume_from) throw new UserError('refinery train --anneal needs --resume-from <checkpoint>');
    if (values.anneal || values.compare) {
      const { annealTable, compareAnneal } = await import('../../../trainer/anneal.js');
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
    const { plan, planTable } = await import('../../../trainer/plan.js');
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
    const config = parseFileAndFlags(sweepOptions, file, pickSweep(values), 'refinery scaling sweep');
    const { lawTable, sweep } = await import('../../../trainer/scaling.js');
    console.log(lawTable(await sweep(config)));
  });
  const fitCmd = scaling
    .command('fit')
    .summary('fit L(N, D) to points (JSONL of params, tokens, loss), with bootstrap intervals')
    .argument('<points.jsonl>', 'one {"params": N, "tokens": D, "loss": L} per line (a sweep writes points.jsonl)');
  const fitOptions = sweepOptions.pick({ target_flops: true, bootstrap: true });
  const pickFit = addSchemaFlags(fitCmd, fitOptions, 'Options:');
  fitCmd.action(async (file: string, values: Record<string, unknown>) => {
    const o = parseOptions(fitOptions, pickFit(values), 'refinery scaling fit');
    const { bootstrap, computeOptimal, fitLaw, lawTable, readPoints } = await import('../../../trainer/scaling.js');
    const points = readPoints(file);
    const law = fitLaw(points);
    const intervals = o.bootstrap > 0 ? bootstrap(points, law, o.bootstrap, 1) : null;
    console.log(lawTable({ points: [], law, intervals, optimal: o.target_flops ? { flops: o.target_flops, ...computeOptimal(law, o.target_flops) } : null }));
  });

  const evalCmd = program
    .command('eval')
    .summary('evaluate a checkpoint: multiple-choice tasks (acc, acc_norm, bootstrap intervals) and perplexity / bits per byte on shards')
    .description(
      'Score multiple-choice tasks (--tasks: files, or directories of them) by the log-likelihood of each choice, as ' +
        'lm-evaluation-harness does, with --shots worked examples from a dev split never scored, under one or more prompt ' +
        'templates (--templates, accuracies per template and averaged), each accuracy with a 95% bootstrap interval; and/or ' +
        'measure loss, perplexity and bits per byte of documents (--data). Several tasks give one table (Markdown; --json for ' +
        'JSON); -o DIR writes DIR/results.json and DIR/results.md.',
    );
  // --data takes several directories after it (--data a b), which no schema flag does.
  const pickEval = addSchemaFlags(evalCmd, evalOptions.omit({ data: true }), 'Options:', { required: true });
  evalCmd
    .option('--data <dirs...>', evalOptions.shape.data.description)
    .option('-o, --output <dir>', 'write the task results to DIR/results.json and DIR/results.md (replacing only an earlier eval\'s)')
    .option('--json', 'print JSON');
  evalCmd.action(async (values: Record<string, unknown>) => {
    const o = parseOptions(evalOptions, { ...pickEval(values), data: values.data }, 'refinery eval');
    if (!o.tasks && !o.data) throw new UserError('refinery eval: give --tasks and/or --data');
    if (o.contamination && !o.tasks) throw new UserError('refinery eval: --contamination splits the --tasks items; give --tasks');
    if (values.output && !o.tasks) throw new UserError('refinery eval: -o writes the --tasks results; give --tasks');
    const { pickTemplates } = await import('../../../trainer/templates.js');
    const { evaluateSuite, suiteTable, taskFiles, writeSuite } = await import('../../../trainer/eval-suite.js');
    const templates = pickTemplates(o.templates);
    const files = o.tasks ? taskFiles(o.tasks) : [];
    const { openScorer, scoreDocs } = await import('../../../trainer/evaluate.js');
    const { readDocs } = await import('../../import/read.js');
    const scorer = await openScorer(o.checkpoint, o.tokenizer);
    let suite: SuiteResult | null = null;
    let data: DocsScore | null = null;
    try {
      const log = files.length > 1 ? (line: string) => console.error(line) : undefined;
      if (files.length) suite = evaluateSuite(scorer, files, o.checkpoint, { shots: o.shots, seed: o.seed, templates, dev: o.dev, contamination: o.contamination }, log);
      if (o.data) data = await scoreDocs(scorer, readDocs(o.data, 'eval', 'file'), o.max_docs);
    } finally {
      scorer.dispose();
    }
    const written = suite && values.output ? writeSuite(suite, values.output as string, [...files, ...(o.dev ? [o.dev] : []), ...(o.contamination ? [o.contamination] : [])]) : null;
    // One task file keeps the shape it always had ({tasks, contamination, data}); several files, or a directory, are a suite.
    const one = suite && o.tasks?.length === 1 && files[0] === o.tasks[0] ? suite.tasks[0] : null;
    if (values.json) {
      const { contamination, ...tasks } = one ?? {};
      console.log(JSON.stringify(one ? { tasks, contamination, data: data ?? undefined } : { suite: suite ?? undefined, data: data ?? undefined }, null, 1));
    } else {
      const ci = (r: McResult) => `acc ${r.acc.toFixed(3)} [${r.acc_ci.map((x) => x.toFixed(3)).join(', ')}], acc_norm ${r.acc_norm.toFixed(3)} [${r.acc_norm_ci.map((x) => x.toFixed(3)).join(', ')}] (chance ${r.chance.toFixed(3)})`;
      if (one) {
        const many = one.templates.length > 1;
        console.log(`eval: ${one.tasks} tasks, ${one.shots}-shot${many ? `, mean of ${one.templates.length} templates` : ''}: ${ci(one)}; 95% bootstrap intervals, acc's ${one.acc_ci_width.toFixed(3)} wide`);
        if (many) for (const t of one.templates) console.log(`eval:   ${t.template.padEnd(16)} acc ${t.acc.toFixed(3)} [${t.acc_ci.map((x) => x.toFixed(3)).join(', ')}], acc_norm ${t.acc_norm.toFixed(3)}`);
        const c = one.contamination;
        if (c) {
          for (const [name, r] of [['clean', c.clean], ['contaminated', c.contaminated]] as const) {
            console.log(`eval: ${name.padEnd(12)} ${r.tasks} tasks: ${r.tasks ? ci(r) : 'none'}`);
          }
          console.log(`eval: contaminated = found in at least one of ${c.documents} documents (${c.n}-gram overlap)`);
        }
      } else if (suite) console.log(suiteTable(suite));
      if (data) console.log(`eval: ${data.documents} documents, ${formatCount(data.tokens)} tokens: loss ${data.loss.toFixed(4)}, perplexity ${data.perplexity.toFixed(2)}, ${data.bits_per_byte.toFixed(4)} bits/byte`);
    }
    if (written) console.error(`eval: results in ${written.json} and ${written.md}`);
  });

  const sftCmd = program
    .command('sft')
    .summary('supervised fine-tuning of a checkpoint on conversations (loss on the assistant\'s tokens only)')
    .description(
      'Fine-tune a pretrained checkpoint on conversations in the chat template (<|user|> ... <|end|> <|assistant|> ... <|end|>): ' +
        'the loss counts only the assistant\'s tokens and the <|end|> closing them. The tokenizer needs the chat tokens ' +
        '(refinery tokenizer add-special); the checkpoint\'s embedding grows to it, new rows at the mean. Same loop, checkpoints, ' +
        'resume and metrics as refinery train; a short warmup then a linear decay to 0. With --val-data: held-out loss on the ' +
        'assistant\'s tokens every eval, and at the end --answers held-out prompts answered greedily (ended with <|end|>, exactly right).',
    )
    .argument('[config.yaml]', 'a YAML file of the options below');
  const pickSft = addSchemaFlags(sftCmd, sftOptions, 'Options:');
  sftCmd.action(async (file: string | undefined, values: Record<string, unknown>) => {
    const o = parseFileAndFlags(sftOptions, file, pickSft(values), 'refinery sft');
    const { sft } = await import('../../../trainer/sft.js');
    const r = await sft(o);
    const a = r.answers;
    console.log(
      `sft: ${r.steps} steps on ${r.conversations} conversations (${r.rows} rows) in ${r.seconds.toFixed(0)} s; loss ${r.loss.toFixed(4)}` +
        `${r.val_loss === null ? '' : `, held-out ${r.val_loss.toFixed(4)}`}${a ? `; ${a.prompts} held-out answers: ${(100 * a.ended).toFixed(1)}% end with <|end|>, ${(100 * a.exact).toFixed(1)}% exact` : ''}; ${o.out}/`,
    );
  });

  const dpoCmd = program
    .command('dpo')
    .summary('direct preference optimisation of an SFT checkpoint on {prompt, chosen, rejected} pairs')
    .description(
      'DPO: raise the policy\'s log-probability ratio (against the frozen SFT reference) of the chosen answer over the rejected ' +
        'one, loss -log sigmoid(beta * margin). The reference\'s log-probabilities are computed once and stored in ' +
        '--out/reference.json; the gradient goes through the policy only. Same loop, checkpoints and resume as refinery train; ' +
        'with --val-data every eval reports the held-out DPO loss, reward margin, reward accuracy and preference accuracy.',
    )
    .argument('[config.yaml]', 'a YAML file of the options below');
  const pickDpo = addSchemaFlags(dpoCmd, dpoOptions, 'Options:');
  dpoCmd.action(async (file: string | undefined, values: Record<string, unknown>) => {
    const o = parseFileAndFlags(dpoOptions, file, pickDpo(values), 'refinery dpo');
    const { dpo } = await import('../../../trainer/dpo.js');
    const r = await dpo(o);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(
      `dpo: ${r.steps} steps on ${r.pairs} pairs in ${r.seconds.toFixed(0)} s; loss ${r.loss.toFixed(4)}` +
        `${r.before && r.after ? `; held-out preference accuracy ${pct(r.before.pref_acc)} -> ${pct(r.after.pref_acc)}, reward margin ${r.after.margin.toFixed(3)}, reward accuracy ${pct(r.after.reward_acc)}` : ''}; ${o.out}/`,
    );
  });

  const chatCmd = program
    .command('chat')
    .summary('chat with a checkpoint in the terminal (or answer one --prompt)')
    .description(
      'An interactive chat with a checkpoint from refinery sft or dpo: type a message, read the answer (decoded with a key-value ' +
        'cache until <|end|>); the conversation so far is the context of the next answer. /reset forgets it, /exit leaves. ' +
        'With --prompt, one answer is printed and the command exits.',
    );
  const pickChat = addSchemaFlags(chatCmd, chatOptions, 'Options:', { required: true });
  chatCmd.action(async (values: Record<string, unknown>) => {
    const o = parseOptions(chatOptions, pickChat(values), 'refinery chat');
    const { chatLoop } = await import('../../../trainer/chat.js');
    await chatLoop(o);
  });

  const generateCmd = program.command('generate').summary('sample text from a checkpoint');
  const pickGenerate = addSchemaFlags(generateCmd, generateOptions, 'Options:', { required: true });
  generateCmd.action(async (values: Record<string, unknown>) => {
    const o = parseOptions(generateOptions, pickGenerate(values), 'refinery generate');
    const { generate } = await import('../../../trainer/generate.js');
    const r = await generate(o);
    console.log(`${o.prompt}${r.text}`);
  });
}
