/** Every stage the CLI, the pipeline runner and the pool workers know, by name. */
import { UserError } from './core/errors.js';
import type { Stage } from './core/stage.js';
import { exportStage } from './export/index.js';
import { extractStage } from './extract/index.js';
import { importStage } from './import/index.js';
import { ingestStage } from './ingest/index.js';
import { piiStage } from './pii/index.js';

export const STAGES: readonly Stage[] = [ingestStage, extractStage, piiStage, importStage, exportStage];

export function stageByName(name: string): Stage {
  const stage = STAGES.find((s) => s.name === name);
  if (!stage) throw new UserError(`unknown stage "${name}" (stages: ${STAGES.map((s) => s.name).join(', ')})`);
  return stage;
}
