/** The scaling-law fit recovers a known law from noisy losses; the compute-optimal split follows. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { TokenShardWriter } from '../pipeline/tokenize/token-shards.js';
import { sweepOptions } from '../trainer/scaling-options.js';
import { computeOptimal, fitLaw, predict, sweep, type Law } from '../trainer/scaling.js';
import { useBackend } from '../trainer/backend.js';
import { cleanup, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

describe('scaling law fit (Chinchilla approach 3)', () => {
  it('recovers E, A, B, alpha and beta within 5% from losses with 0.5% noise', () => {
    const truth: Law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const random = new Random(5);
    const points = [];
    for (const params of [1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10]) {
      for (const tokens of [1e8, 1e9, 1e10, 1e11, 1e12]) {
        const noise = 1 + 0.005 * (random.next() * 2 - 1);
        points.push({ params, tokens, loss: predict(truth, params, tokens) * noise });
      }
    }
    const fit = fitLaw(points);
    for (const k of Object.keys(truth) as (keyof Law)[]) expect(Math.abs(fit[k] / truth[k] - 1), `${k}: fit ${fit[k]}, truth ${truth[k]}`).toBeLessThan(0.05);
  }, 60_000);

  it('splits a compute budget where the loss is lowest along C = 6 N D', () => {
    const law: Law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const opt = computeOptimal(law, 5.88e23);
    expect(6 * opt.params * opt.tokens).toBeCloseTo(5.88e23, -20);
    for (const f of [0.8, 1.25]) expect(predict(law, opt.params * f, 5.88e23 / 6 / (opt.params * f))).toBeGreaterThan(opt.loss);
  });
});

describe('refinery scaling sweep', () => {
  it('trains the grid, writes its points, the fitted law with intervals and the chart', async () => {
    await useBackend('cpu');
    const random = new Random(2);
    for (const [split, n] of [['train', 30_000], ['val', 3_000]] as const) {
      mkdirSync(join(dir, 'tokens', split), { recursive: true });
      const w = new TokenShardWriter(join(dir, 'tokens', split, 'part-00000.arrow'), { tokenizer: 't', vocabSize: 16, endOfText: 15 });
      w.write(Array.from({ length: n }, (_, i) => (random.chance(0.2) ? random.int(0, 14) : (i * 7) % 15)));
      w.publish();
    }
    const out = join(dir, 'sweep');
    const report = await sweep(sweepOptions.parse({ data: join(dir, 'tokens'), out, sizes: ['8x1', '16x1', '16x2'], token_budgets: [512, 1024, 2048], context: 8, batch_size: 4, lr: 0.01, warmup: 2, eval_batches: 2, bootstrap: 5, target_flops: 1e9, backend: 'cpu', peak_flops: 1e9 }), () => {});
    expect(report.points).toHaveLength(9);
    expect(readFileSync(join(out, 'points.jsonl'), 'utf8').trim().split('\n')).toHaveLength(9);
    for (const v of Object.values(report.law)) expect(Number.isFinite(v)).toBe(true);
    expect(report.intervals?.alpha.low).toBeLessThanOrEqual(report.intervals?.alpha.high as number);
    expect(report.optimal?.params).toBeGreaterThan(0);
    expect(existsSync(join(out, 'scaling.svg'))).toBe(true);
    // Each point is a real run: more tokens, lower loss for the same model (on this learnable stream).
    const byModel = (n: number) => report.points.filter((p) => p.params === n).sort((a, b) => a.tokens - b.tokens);
    const biggest = Math.max(...report.points.map((p) => p.params));
    expect(byModel(biggest)[2].loss).toBeLessThan(byModel(biggest)[0].loss);
  }, 120_000);
});
