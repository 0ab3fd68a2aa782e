/**
 * Every stage the CLI, the pipeline runner and the pool workers know, by name; and the
 * operations a pipeline file can run: each public stage, plus the dedup pipelines, which
 * are several stages and reduce steps behind one name.
 */
import type * as z from 'zod';
import { UserError } from './core/errors.js';
import { runStageOrThrow, type RunOptions, type Runner } from './core/executor.js';
import type { Stage, StageConfig } from './core/stage.js';
import { filterStage as dedupFilterStage } from './dedup/filter.js';
import { dedupPipeline, pipelineOptions, type PipelineConfig } from './dedup/index.js';
import { dedupLines, lineFilterStage, lineKeyStage, lineOptions, type LineConfig } from './dedup/lines.js';
import { signatureStage as dedupSignatureStage } from './dedup/signatures.js';
import { exportStage } from './export/index.js';
import { extractStage } from './extract/index.js';
import { importStage } from './import/index.js';
import { ingestStage } from './ingest/index.js';
import { piiStage } from './pii/index.js';
import { qualityOptions, qualityStage, runQuality, scoreStage, type QualityConfig } from './quality/index.js';
import { domainStage } from './domains/index.js';
import { perplexityStage } from './quality/perplexity.js';
import { mixCountStage, mixOptions, mixStage, runMix, type MixConfig } from './mix/index.js';
import { mixTable } from './mix/report.js';
import { runSelect, selectOptions, selectScoreStage, selectStage, type SelectConfig } from './select/index.js';
import { runTokenize, tokenizeOptions, tokenizeStage, type TokenizeConfig } from './tokenize/index.js';

export const STAGES: readonly Stage[] = [ingestStage, extractStage, piiStage, importStage, exportStage, dedupSignatureStage, dedupFilterStage, lineKeyStage, lineFilterStage, qualityStage, scoreStage, domainStage, mixCountStage, mixStage, selectScoreStage, selectStage, tokenizeStage, perplexityStage];

export function stageByName(name: string): Stage {
  const stage = STAGES.find((s) => s.name === name);
  if (!stage) throw new UserError(`unknown stage "${name}" (stages: ${STAGES.map((s) => s.name).join(', ')})`);
  return stage;
}

/** What a pipeline file's entry names: options to validate, and how to run over inputs into an output. */
export interface Operation {
  name: string;
  options: z.ZodObject;
  /** Can find its own inputs from its options (ingest --cc), so a pipeline may start with it without "input". */
  findsInputs?: boolean;
  run(config: StageConfig, inputs: string[], out: string, options: RunOptions, r: Runner): Promise<void>;
}

export async function runPublicStage(stage: Stage, config: StageConfig, inputs: string[], out: string, options: RunOptions, r: Runner): Promise<void> {
  await runStageOrThrow(stage, config, inputs, out, options, r);
}

export const OPERATIONS: readonly Operation[] = [
  ...STAGES.filter((s) => !s.internal).map((stage) => ({ name: stage.name, options: stage.options, findsInputs: stage.resolveInputs !== undefined, run: runPublicStage.bind(null, stage) })),
  ...(['minhash', 'exact'] as const).map((mode) => ({
    name: `dedup-${mode}`,
    options: pipelineOptions,
    run: async (config: StageConfig, inputs: string[], out: string, options: RunOptions, r: Runner) => {
      await dedupPipeline(mode, inputs, out, config as PipelineConfig, options, r);
    },
  })),
  { name: 'dedup-lines', options: lineOptions, run: (config, inputs, out, options, r) => dedupLines(inputs, out, config as LineConfig, options, r) },
  { name: 'quality', options: qualityOptions, run: (config, inputs, out, options, r) => runQuality(inputs, out, config as QualityConfig, options, r) },
  {
    name: 'mix',
    options: mixOptions,
    run: async (config, inputs, out, options, r) => {
      const report = await runMix(inputs, out, config as MixConfig, options, r);
      (r.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(mixTable(report));
    },
  },
  { name: 'select', options: selectOptions, run: (config, inputs, out, options, r) => runSelect(inputs, out, config as SelectConfig, options, r) },
  {
    name: 'tokenize',
    options: tokenizeOptions,
    run: async (config, inputs, out, options, r) => {
      await runTokenize(inputs, out, config as TokenizeConfig, options, r);
    },
  },
];

export function operationByName(name: string): Operation {
  const op = OPERATIONS.find((o) => o.name === name);
  if (!op) throw new UserError(`unknown stage "${name}" (stages: ${OPERATIONS.map((o) => o.name).join(', ')})`);
  return op;
}
