/** `refinery slurm` (a command as a Slurm job array) and `refinery run` (the stages of a pipeline YAML, in order). */
import type { Command } from 'commander';
import { parseOptions } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { resolvePlacement, runOptions, type Runner } from '../../core/executor.js';
import { runSlurm, slurmOptions } from '../../slurm/index.js';
import { OPERATIONS, operationByName } from '../../stages.js';
import { addSchemaFlags } from '../flags.js';
import { loadPipeline } from '../pipeline-file.js';

/** `cliScript`: the compiled CLI the array tasks run. */
export function addSlurmCommand(program: Command, cliScript: string): void {
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
    await runSlurm(command, config, cliScript);
  });
}

export function addRunPipelineCommand(program: Command, runner: Runner): void {
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
}
