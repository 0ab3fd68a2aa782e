/** The options of `refinery scaling sweep` (kept apart from scaling.ts so the CLI can list them without loading TensorFlow.js). */
import * as z from 'zod';
import { trainOptions } from './config.js';

export const sweepOptions = trainOptions
  .omit({ d_model: true, layers: true, heads: true, steps: true, out: true })
  .extend({
    out: z.string().describe('sweep directory: runs/, points.jsonl, scaling.json, scaling.svg'),
    sizes: z.array(z.string().regex(/^\d+x\d+$/, 'a size is "<d_model>x<layers>", e.g. 64x2')).min(2).describe('model sizes as d_model x layers (heads: d_model / 16)'),
    token_budgets: z.array(z.coerce.number().int().positive()).min(2).describe('training tokens per run'),
    target_flops: z.number().positive().optional().describe('report the compute-optimal parameters and tokens for this budget').meta({ value: 'C' }),
    bootstrap: z.number().int().min(0).default(50).describe('bootstrap resamples for the intervals'),
  })
  .strict();
export type SweepConfig = z.infer<typeof sweepOptions>;

