/**
 * `refinery run` (a pipeline YAML: one plan, the stages' phases in order), and the executors
 * that schedule any command's plan: `refinery slurm` (a dependency chain of sbatch jobs) and
 * `refinery k8s` (Indexed Job manifests and the script that applies them in order).
 */
import type { Command } from 'commander';
import type * as z from 'zod';
import { parseOptions } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { runOptions, type Runner } from '../../core/executor.js';
import type { Plan } from '../../core/plan.js';
import { k8sOptions, writeK8s } from '../../executors/k8s.js';
import { runSlurm, slurmOptions } from '../../executors/slurm.js';
import { OPERATIONS, operationByName } from '../../stages.js';
import { capturePlan, execute } from '../execute.js';
import { addSchemaFlags } from '../flags.js';
import { loadPipeline } from '../pipeline-file.js';

/** How a scheduler learns a command's plan: the CLI parses the command with execution captured. */
export type PlanOfCommand = (command: readonly string[]) => Promise<Plan>;
export const planOfCommand = (parse: (argv: string[]) => Promise<unknown>): PlanOfCommand => (command) => {
  if (command.length === 0) throw new UserError('give the refinery command after --, e.g. -- dedup minhash in/ -o out/');
  return capturePlan(command, () => parse([...command]));
};

export function addRunPipelineCommand(program: Command, runner: Runner): void {
  const runCmd = program
    .command('run')
    .summary('run the stages listed in a pipeline YAML, in order (one plan: every executor runs it)')
    .description(
      "Run the stages listed in a pipeline YAML in order; each stage reads the previous stage's output.\nSee configs/demo.yaml for the format. " +
        `Stages: ${OPERATIONS.map((o) => o.name).join(', ')}. The file is one plan: --list-phases shows its phases, ` +
        '"refinery slurm -- run FILE" submits it as one dependency chain.',
    )
    .argument('<pipeline.yaml>', 'pipeline file')
    .option('--stages <names>', 'only run these stages (comma-separated names)')
    .addHelpText('after', '\nRun options given here override those in the file.');
  const pickRun = addSchemaFlags(runCmd, runOptions, 'Run options:');
  runCmd.action(async (file: string, values: Record<string, unknown>) => {
    const overrides = pickRun(values);
    const plan = loadPipeline(file, operationByName, overrides);
    const only = typeof values.stages === 'string' ? values.stages.split(',').map((s) => s.trim()) : null;
    if (only) {
      const unknown = only.filter((n) => !plan.parts.some((p) => p.operation.name === n));
      if (unknown.length) throw new UserError(`--stages: ${unknown.join(', ')} not in ${file}`);
      plan.parts = plan.parts.filter((p) => only.includes(p.operation.name));
    }
    await execute(plan, parseOptions(runOptions, overrides, 'refinery run'), runner);
  });
}

/** A scheduler command: its options, then `-- <refinery command>`, whose plan `run` schedules. */
function addSchedulerCommand<S extends z.ZodObject>(
  program: Command,
  name: string,
  text: { summary: string; description: string },
  schema: S,
  planOf: PlanOfCommand,
  run: (command: string[], plan: Plan, config: z.infer<S>) => Promise<unknown>,
): void {
  const cmd = program
    .command(name)
    .summary(text.summary)
    .description(text.description)
    .argument('<command...>', 'the refinery command to run, after --')
    .passThroughOptions();
  const pick = addSchemaFlags(cmd, schema, 'Options:');
  cmd.action(async (command: string[], values: Record<string, unknown>) => {
    const config = parseOptions(schema, pick(values), `refinery ${name}`);
    await run(command, await planOf(command), config);
  });
}

/** `cliScript`: the compiled CLI the jobs run. */
export function addSlurmCommand(program: Command, cliScript: string, planOf: PlanOfCommand): void {
  const text = {
    summary: 'run any command (a pipeline file too) on Slurm: an array per map phase, a job per reduce, chained; wait and resubmit',
    description:
      'refinery slurm [options] -- <refinery command>: the command\'s phases (see its --list-phases) become sbatch scripts in ' +
      '<output>-slurm/: an array of --array tasks for each map or jobs phase, one job for each reduce, each submitted with ' +
      '--dependency=afterok on the one before. It prepares the output and work directories first (with --overwrite: empties ' +
      'them), polls squeue until the chain is done, then resubmits from the first unfinished phase while tasks are missing ' +
      '(finished ones are skipped). --dry-run prints the scripts.',
  };
  addSchedulerCommand(program, 'slurm', text, slurmOptions, planOf, (command, plan, config) => runSlurm(command, plan, config, cliScript));
}

export function addK8sCommand(program: Command, planOf: PlanOfCommand): void {
  const text = {
    summary: 'write any command (a pipeline file too) as Kubernetes Indexed Jobs, one per phase, and the script that runs them in order',
    description:
      'refinery k8s [options] -- <refinery command>: one Indexed Job manifest per phase of the command (see its --list-phases) ' +
      'into <output>-k8s/ (--manifests): --completions pods for each map or jobs phase, one for each reduce, every pod running ' +
      'the same command with --phase (JOB_COMPLETION_INDEX and REFINERY_WORLD_SIZE place it); a first Job prepares the ' +
      'directories. run.sh applies them in order with kubectl, waiting for each to complete. Inputs and outputs must be on ' +
      'a volume every pod mounts (--volume-claim) at the same path (--mount-path, default: here).',
  };
  addSchedulerCommand(program, 'k8s', text, k8sOptions, planOf, async (command, plan, config) => {
    const { dir, jobs } = writeK8s(command, plan, config);
    console.log(`k8s: ${jobs.length} Jobs (${jobs.map((j) => j.name).join(', ')}) in ${dir}; run them with ${dir}/run.sh`);
  });
}
