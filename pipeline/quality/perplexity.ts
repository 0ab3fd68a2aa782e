/**
 * `refinery perplexity`: each document's perplexity under a checkpoint of refinery's own
 * trainer (CCNet's filter, with our model instead of KenLM), in the column `quality_ppl`, so
 * the model of one round can select the data of the next: `select --by quality_ppl --lowest
 * --top 30%`. TensorFlow.js loads only in the workers that run this stage.
 */
import * as z from 'zod';
import { defineStage, type Step, needsText } from '../core/stage.js';

export const perplexityOptions = z
  .object({
    checkpoint: z.string().describe("a checkpoint directory of 'refinery train' (a run's out/checkpoint)"),
    tokenizer: z.string().optional().describe('its tokenizer.json (default: the one its training data was made with)'),
    max_tokens: z.number().int().min(2).default(256).describe('score at most the first N tokens of each document'),
    column: z.string().regex(/^[a-z0-9_]+$/).default('quality_ppl').describe('the column to write'),
  })
  .strict();
export type PerplexityConfig = z.infer<typeof perplexityOptions>;

async function perplexitySteps(c: PerplexityConfig): Promise<Step[]> {
  const { openScorer, scoreText } = await import('../../trainer/evaluate.js');
  const scorer = await openScorer(c.checkpoint, c.tokenizer);
  return [
    {
      name: 'perplexity',
      kind: 'annotate',
      adds: [{ name: c.column, type: 'float32' }],
      apply(doc) {
        const text = typeof doc.text === 'string' ? doc.text : '';
        const r = text ? scoreText(scorer, text, c.max_tokens) : null;
        doc[c.column] = r && r.tokens > 0 ? Math.exp(r.nats / r.tokens) : null;
      },
      close: () => scorer.dispose(),
    },
  ];
}

export const perplexityStage = defineStage({
  name: 'perplexity',
  summary: "score each document's perplexity under a trained checkpoint (quality_ppl)",
  needs: needsText,
  description: 'CCNet-style: lower is closer to the text the model was trained on. Then: refinery select --by quality_ppl --lowest --top 30%.',
  options: perplexityOptions,
  steps: (config) => perplexitySteps(config),
});
