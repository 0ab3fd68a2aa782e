/**
 * Annealing at equal compute, with a tiny model on token streams of known structure: a "mix"
 * in which a high-quality pattern is rare, and held-out high-quality text of that pattern.
 * Annealing on the high-quality stream must end lower on its held-out split than a control
 * that stays on the mix with the same schedule.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { TokenShardWriter } from '../pipeline/tokenize/token-shards.js';
import { compareAnneal } from '../trainer/anneal.js';
import { trainOptions } from '../trainer/config.js';
import { train } from '../trainer/train.js';
import { cleanup, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

function stream(path: string, tokens: number[]): void {
  mkdirSync(path, { recursive: true });
  const w = new TokenShardWriter(join(path, 'part-00000.arrow'), { tokenizer: 'test', vocabSize: 32, endOfText: 31 });
  w.write(tokens);
  w.publish();
}

describe('annealing', () => {
  it('on high-quality data beats the control on high-quality held-out loss at equal compute', async () => {
    const r = new Random(8);
    // High quality: a counter that steps by 5 (mod 30). The mix: mostly noise, 10% of that counter.
    const hq = (n: number, seed: number) => {
      const g = new Random(seed);
      const out: number[] = [];
      while (out.length < n) for (let i = 0, s = g.int(0, 29); i < 40; i++) out.push((s + 5 * i) % 30);
      return out;
    };
    const mix = Array.from({ length: 20_000 }, (_, i) => (r.chance(0.1) ? (5 * i) % 30 : r.int(0, 29)));
    stream(join(dir, 'mix', 'train'), mix);
    stream(join(dir, 'hq', 'train'), hq(6000, 1));
    stream(join(dir, 'hq', 'val'), hq(2000, 2));
    const base = trainOptions.parse({ data: join(dir, 'mix', 'train'), out: join(dir, 'pre'), context: 16, d_model: 32, layers: 1, heads: 2, batch_size: 16, steps: 30, warmup: 3, lr: 0.03, log_every: 10, eval_every: 100, checkpoint_every: 100, backend: 'cpu', peak_flops: 1e9 });
    const silent = () => {};
    await train(base, silent);
    const report = await compareAnneal(
      { ...base, out: join(dir, 'anneal'), resume_from: join(dir, 'pre', 'checkpoint'), anneal_data: join(dir, 'hq', 'train'), val_data: join(dir, 'hq', 'val'), steps: 40, schedule: 'wsd', decay_frac: 1, warmup: 0, min_lr: 0 },
      silent,
    );
    expect(report.start?.val_loss).toBeGreaterThan(0);
    expect(report.annealed.val_loss as number).toBeLessThan(report.control.val_loss as number);
    expect(report.gain as number).toBeGreaterThan(0.05);
  }, 120_000);
});
