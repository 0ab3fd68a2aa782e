/**
 * `refinery run pipeline.yaml`: stages in order, each reading the previous one's output: one
 * plan whose phases are the stages' phases in order (core/plan.ts), run by any executor.
 *
 *   workers: 2                 # run options here apply to every stage
 *   stages:
 *     - stage: import
 *       input: corpus/         # a path or a list; only the first stage needs one
 *       output: out/raw
 *       min_chars: 200         # the stage's own options, same names as its flags
 *     - stage: dedup-minhash   # a stage, or dedup-minhash / dedup-exact / dedup-lines
 *       output: out/unique
 *     - stage: export
 *       output: out/jsonl
 *
 * Paths are relative to the working directory, as on the command line.
 */
import * as z from 'zod';
import { loadYaml, parseOptions } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { runOptions, type RunOptions } from '../core/executor.js';
import { inputOverlap } from '../core/owned-dirs.js';
import { planOf, type Operation, type Plan } from '../core/plan.js';
import type { StageConfig } from '../core/stage.js';

interface PipelineStep {
  op: Operation;
  config: StageConfig;
  inputs: string[];
  output: string;
  run: RunOptions;
}

const RUN_KEYS = Object.keys(runOptions.shape);
const STRUCTURE_KEYS = ['stage', 'input', 'output'];

const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export function loadPipeline(
  file: string,
  byName: (name: string) => Operation,
  overrides: Record<string, unknown> = {},
): Plan {
  const raw = loadYaml(file);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: expected a mapping with a "stages" list`);
  const { stages, ...top } = raw as Record<string, unknown>;
  const topRun = parseOptions(runOptions.partial(), top, file);
  if (!Array.isArray(stages) || stages.length === 0) throw new UserError(`${file}: "stages" must be a non-empty list`);

  let previousOutput: string | null = null;
  const steps = stages.map((entry: unknown, i): PipelineStep => {
    const where = `${file}: stages[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new UserError(`${where}: expected a mapping`);
    const fields = entry as Record<string, unknown>;
    if (typeof fields.stage !== 'string') throw new UserError(`${where}: "stage" (the stage name) is required`);
    const op = byName(fields.stage);
    const at = `${where} (${op.name})`;

    const stageOpts: Record<string, unknown> = {};
    const runOpts: Record<string, unknown> = { ...topRun };
    for (const [key, value] of Object.entries(fields)) {
      if (STRUCTURE_KEYS.includes(key)) continue;
      if (RUN_KEYS.includes(key)) runOpts[key] = value;
      else stageOpts[key] = value;
    }
    const config = parseOptions(op.options, stageOpts, at);
    const run = parseOptions(runOptions, { ...runOpts, ...overrides }, at);

    if (fields.output === undefined) throw new UserError(`${at}: "output" is required`);
    const output = parseOptions(z.string().min(1), fields.output, at, 'output');
    let inputs: string[];
    if (fields.input !== undefined) {
      const given = parseOptions(paths, fields.input, at, 'input');
      inputs = Array.isArray(given) ? given : [given];
    } else if (previousOutput !== null) {
      inputs = [previousOutput];
    } else if (op.findsInputs) {
      inputs = [];
    } else {
      throw new UserError(`${at}: "input" is required for the first stage`);
    }
    previousOutput = output;
    return { op, config, inputs, output, run };
  });
  // Before any stage runs: no stage may write over what it or an earlier stage reads (later
  // stages read what earlier ones write: that is the chain).
  for (const [i, s] of steps.entries()) {
    for (const [j, reader] of steps.slice(0, i + 1).entries()) {
      const why = inputOverlap(s.output, reader.inputs);
      if (why) throw new UserError(`${file}: stages[${i}] (${s.op.name}): output ${s.output} ${why}${j < i ? ` of stages[${j}] (${reader.op.name})` : ''}; write it to another directory`);
    }
  }
  return { parts: steps.map((s) => planOf(s.op, s.config, s.inputs, s.output, s.run)) };
}
