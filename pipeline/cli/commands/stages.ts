/**
 * Commands that run an operation (core/plan.ts) over inputs into -o: one per public stage,
 * and dedup, quality filter, mix, select and tokenize. Flags come from the operation's zod
 * schema and the run options; the plan runs here, or is handed to refinery slurm / k8s.
 */
import type { Command } from 'commander';
import { loadConfigFile, parseOptions } from '../../core/config.js';
import { runOptions, type Runner } from '../../core/executor.js';
import { planOf, type Operation } from '../../core/plan.js';
import { OPERATIONS, STAGES } from '../../stages.js';
import { execute } from '../execute.js';
import { addSchemaFlags } from '../flags.js';
import { addDomainTrainCommand } from './domains.js';

export interface OperationCommand {
  /** The command's name, when not the operation's ("filter" under quality, "minhash" under dedup). */
  name?: string;
  /** Flags of the command itself (output formats), not options of the operation. */
  extra?: (cmd: Command) => void;
  /** After the plan's last phase ran here: print what it wrote. */
  after?(out: string, values: Record<string, unknown>): void;
}

/** A command that runs `op` over inputs into -o: options from flags and --config YAML, run options, scale-out help. */
export function addOperationCommand(parent: Command, op: Operation, runner: Runner, spec: OperationCommand = {}): Command {
  const cmd = parent
    .command(spec.name ?? op.name)
    .summary(op.summary)
    .description(`${op.summary}\n\n${op.description ?? ''}`.trimEnd())
    .argument(op.findsInputs ? '[inputs...]' : '<inputs...>', op.inputsHelp ?? 'shard files or stage output directories')
    // Checked in the action, not by commander: commander also demands an ancestor's required options of its subcommands (domains train).
    .option('-o, --output <dir>', 'output directory (required)')
    .option('--config <file.yaml>', 'read options from a YAML file (keys as the flags, with _ for -); flags override it');
  spec.extra?.(cmd);
  const pickOptions = addSchemaFlags(cmd, op.options, 'Options:');
  const pickRun = addSchemaFlags(cmd, runOptions, 'Run options:');
  cmd.addHelpText(
    'after',
    `\nScale-out: with --rank/--world-size (or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with\n` +
      `REFINERY_WORLD_SIZE) each process runs the tasks with index % world-size == rank into the same output directory.\n` +
      `A command of several phases (--list-phases) runs them one at a time across ranks with --phase; refinery slurm\n` +
      `and refinery k8s schedule them. Reruns skip finished work; outputs of unfinished tasks are replaced, never duplicated.`,
  );
  cmd.action(async (inputs: string[], values: Record<string, unknown>) => {
    if (typeof values.output !== 'string') cmd.error("error: required option '-o, --output <dir>' not specified", { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
    const file = values.config as string | undefined;
    const fromFile = file ? loadConfigFile(file) : {};
    const runKeys = Object.keys(runOptions.shape);
    const fileOptions = Object.fromEntries(Object.entries(fromFile).filter(([k]) => !runKeys.includes(k)));
    const fileRun = Object.fromEntries(Object.entries(fromFile).filter(([k]) => runKeys.includes(k)));
    const where = file ?? `refinery ${commandPath(cmd)}`;
    const config = parseOptions(op.options, { ...fileOptions, ...pickOptions(values) }, where);
    const options = parseOptions(runOptions, { ...fileRun, ...pickRun(values) }, where);
    const out = values.output as string;
    if (await execute({ parts: [planOf(op, config, inputs, out, options)] }, options, runner)) spec.after?.(out, values);
  });
  return cmd;
}

const commandPath = (cmd: Command): string => (cmd.parent?.parent ? `${commandPath(cmd.parent)} ${cmd.name()}` : cmd.name());

/** `refinery import`, `refinery extract`, ...: one command per public stage (and `domains train` under domains). */
export function addStageCommands(program: Command, runner: Runner): void {
  for (const stage of STAGES) {
    if (stage.internal) continue;
    const op = OPERATIONS.find((o) => o.name === stage.name) as Operation;
    const cmd = addOperationCommand(program, op, runner);
    if (stage.name === 'domains') addDomainTrainCommand(cmd);
  }
}
