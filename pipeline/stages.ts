/**
 * Every stage the CLI, the pipeline runner and the pool workers know, by name; and the
 * operations (core/plan.ts) commands and pipeline files run: each public stage as one map
 * phase, and the operations of several phases (dedup, line dedup, quality, mix, select,
 * tokenize, decontaminate).
 */
import { UserError } from './core/errors.js';
import { stageOperation, type Operation } from './core/plan.js';
import type { Stage } from './core/stage.js';
import { filterStage as dedupFilterStage } from './dedup/filter.js';
import { countStage as deconCountStage, deconStage, decontaminateOperation, reportOperation as deconReportOperation } from './decontaminate/index.js';
import { dedupOperation } from './dedup/index.js';
import { lineDedupOperation, lineFilterStage, lineKeyStage } from './dedup/lines.js';
import { signatureStage as dedupSignatureStage } from './dedup/signatures.js';
import { exportOperation, exportStage } from './export/index.js';
import { extractStage } from './extract/index.js';
import { importStage } from './import/index.js';
import { ingestStage } from './ingest/index.js';
import { piiStage } from './pii/index.js';
import { qualityOperation, qualityStage, scoreStage } from './quality/index.js';
import { domainStage } from './domains/index.js';
import { perplexityStage } from './quality/perplexity.js';
import { mixCountStage, mixOperation, mixStage } from './mix/index.js';
import { selectOperation, selectScoreStage, selectStage } from './select/index.js';
import { tokenizeOperation, tokenizeStage } from './tokenize/index.js';

export const STAGES: readonly Stage[] = [ingestStage, extractStage, piiStage, importStage, exportStage, dedupSignatureStage, dedupFilterStage, lineKeyStage, lineFilterStage, qualityStage, scoreStage, domainStage, mixCountStage, mixStage, selectScoreStage, selectStage, tokenizeStage, perplexityStage, deconStage, deconCountStage];

export function stageByName(name: string): Stage {
  const stage = STAGES.find((s) => s.name === name);
  if (!stage) throw new UserError(`unknown stage "${name}" (stages: ${STAGES.map((s) => s.name).join(', ')})`);
  return stage;
}

/** Every command that runs over inputs into an output, and every entry a pipeline file may name. */
export const OPERATIONS: readonly Operation[] = [
  // export is a stage whose operation has more phases with --format hf.
  ...STAGES.filter((s) => !s.internal).map((s) => (s === exportStage ? exportOperation : stageOperation(s))),
  dedupOperation('minhash'),
  dedupOperation('exact'),
  lineDedupOperation,
  qualityOperation,
  mixOperation,
  selectOperation,
  tokenizeOperation,
  decontaminateOperation,
  deconReportOperation,
];

export function operationByName(name: string): Operation {
  const op = OPERATIONS.find((o) => o.name === name);
  if (!op) throw new UserError(`unknown stage "${name}" (stages: ${OPERATIONS.map((o) => o.name).join(', ')})`);
  return op;
}
