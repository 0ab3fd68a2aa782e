/** Commands that run over inputs into -o: one per public stage, and the shape mix, select, tokenize and quality filter share. */
import type { Command } from 'commander';
import type * as z from 'zod';
import { loadConfigFile, parseOptions } from '../../core/config.js';
import { runOptions, type RunOptions, type Runner } from '../../core/executor.js';
import type { Stage, StageConfig } from '../../core/stage.js';
import { STAGES, runPublicStage } from '../../stages.js';
import { addSchemaFlags } from '../flags.js';
import { addDomainTrainCommand } from './domains.js';

export interface RunCommand {
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
export function addRunCommand(parent: Command, spec: RunCommand): Command {
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
    const fromFile = file ? loadConfigFile(file) : {};
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

function addStageCommand(program: Command, stage: Stage, runner: Runner): Command {
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

/** `refinery import`, `refinery extract`, ...: one command per public stage (and `domains train` under domains). */
export function addStageCommands(program: Command, runner: Runner): void {
  for (const stage of STAGES) {
    if (stage.internal) continue;
    const cmd = addStageCommand(program, stage, runner);
    if (stage.name === 'domains') addDomainTrainCommand(cmd);
  }
}
