/**
 * Where each stage lives, so that a pool worker loads only the stage it runs: importing every
 * stage (HTML parsers, the crawler's HTTP client, tokenizers) cost a worker ~1 s at start,
 * once per worker of every command. tests/boundaries.test.ts checks this list against
 * `STAGES` in stages.ts.
 */
import type { Stage } from './core/stage.js';

const MODULES: Record<string, () => Promise<Stage>> = {
  ingest: () => import('./ingest/index.js').then((m) => m.ingestStage),
  extract: () => import('./extract/index.js').then((m) => m.extractStage),
  pii: () => import('./pii/index.js').then((m) => m.piiStage),
  import: () => import('./import/index.js').then((m) => m.importStage),
  export: () => import('./export/index.js').then((m) => m.exportStage),
  'dedup-signatures': () => import('./dedup/signatures.js').then((m) => m.signatureStage),
  dedup: () => import('./dedup/filter.js').then((m) => m.filterStage),
  'dedup-line-keys': () => import('./dedup/lines.js').then((m) => m.lineKeyStage),
  'dedup-lines': () => import('./dedup/lines.js').then((m) => m.lineFilterStage),
  quality: () => import('./quality/index.js').then((m) => m.qualityStage),
  'quality-scores': () => import('./quality/index.js').then((m) => m.scoreStage),
  domains: () => import('./domains/index.js').then((m) => m.domainStage),
  'mix-count': () => import('./mix/index.js').then((m) => m.mixCountStage),
  mix: () => import('./mix/index.js').then((m) => m.mixStage),
  'select-values': () => import('./select/index.js').then((m) => m.selectScoreStage),
  select: () => import('./select/index.js').then((m) => m.selectStage),
  tokenize: () => import('./tokenize/index.js').then((m) => m.tokenizeStage),
  decontaminate: () => import('./decontaminate/index.js').then((m) => m.deconStage),
  'decontaminate-count': () => import('./decontaminate/index.js').then((m) => m.countStage),
  perplexity: () => import('./quality/perplexity.js').then((m) => m.perplexityStage),
};

export const STAGE_MODULE_NAMES: readonly string[] = Object.keys(MODULES);

/** The stage called `name`, from its own module only. */
export async function loadStage(name: string): Promise<Stage> {
  const load = MODULES[name];
  if (!load) throw new Error(`unknown stage "${name}" (stages: ${STAGE_MODULE_NAMES.join(', ')})`);
  return load();
}
