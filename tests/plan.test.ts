/** `refinery plan`: the worked examples of the literature, and its errors. */
import { describe, expect, it } from 'vitest';
import { plan, planOptions } from '../trainer/plan.js';
import { cli } from './helpers/cli.js';

const run = (o: Record<string, unknown>) => plan(planOptions.parse(o));

describe('refinery plan', () => {
  it('Llama 3 405B: 15.6T tokens, about 3.8e25 FLOPs, 26M H100-hours at 400 TFLOP/s, about 70 days on 16k', () => {
    const p = run({ params: '405B', tokens: '15.6T', accelerator_flops: '400e12', accelerators: 16384 });
    expect(p.flops).toBeCloseTo(3.79e25, -23);
    expect((p.accelerator_hours as number) / 1e6).toBeCloseTo(26.3, 1);
    expect(p.days as number).toBeGreaterThan(65);
    expect(p.days as number).toBeLessThan(72);
  });
  it("Chinchilla: its compute gives 70B parameters and 1.4T tokens at 20 tokens per parameter", () => {
    const p = run({ flops: 6 * 70e9 * 1.4e12 });
    expect(p.params / 1e9).toBeCloseTo(70, 6);
    expect(p.tokens / 1e12).toBeCloseTo(1.4, 6);
  });
  it('any two give the third; one gives the allocation; a time budget gives tokens', () => {
    expect(run({ flops: 6e21, tokens: 1e12 }).params).toBeCloseTo(1e9, -3);
    expect(run({ params: '1B' }).tokens).toBe(20e9);
    expect(run({ tokens: '3T', tokens_per_param: 150 }).params).toBe(2e10);
    expect(run({ hours: 2, tokens_per_second: 3927, params: '1.33M' }).tokens).toBe(2 * 3600 * 3927);
    expect(run({ params: '7B', tokens: '2T', peak_flops: '989e12', mfu: 0.4, price: 2 }).cost).toBeCloseTo((6 * 7e9 * 2e12) / (989e12 * 0.4) / 3600 * 2, 3);
  });
  it('refuses too much or too little, on one line', () => {
    for (const args of [[], ['--flops', '1e20', '--params', '1B', '--tokens', '1T'], ['--hours', '3'], ['--params', 'lots']]) {
      const r = cli(['plan', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
