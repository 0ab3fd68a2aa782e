/**
 * Cross-validation for `quality train`: stratified, deterministic folds; the quality defaults
 * parse; `--cv` through the real CLI prints one row per fold and mean ± sd, and records them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { meanSd } from '../pipeline/classify/metrics.js';
import { stratifiedFolds } from '../pipeline/classify/train.js';
import { Random } from '../pipeline/core/random.js';
import { QUALITY_DEFAULTS, cvFolds, trainOptions } from '../pipeline/quality/train.js';
import { cleanup, cli, cliOk, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

describe('stratifiedFolds', () => {
  const labels = [...new Array<number>(23).fill(1), ...new Array<number>(17).fill(0)];

  it('puts each class in every fold in proportion, sizes within one', () => {
    const folds = stratifiedFolds(labels, 5, new Random(7));
    expect(folds).toHaveLength(labels.length);
    for (let f = 0; f < 5; f++) {
      const pos = labels.filter((l, i) => l === 1 && folds[i] === f).length;
      const neg = labels.filter((l, i) => l === 0 && folds[i] === f).length;
      expect([4, 5]).toContain(pos); // 23 / 5
      expect([3, 4]).toContain(neg); // 17 / 5
      expect(pos + neg).toBe(8);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = stratifiedFolds(labels, 5, new Random(7));
    expect(stratifiedFolds(labels, 5, new Random(7))).toEqual(a);
    expect(stratifiedFolds(labels, 5, new Random(8))).not.toEqual(a);
    expect(cvFolds(23, 17, 5, 3)).toEqual(cvFolds(23, 17, 5, 3));
  });

  it('refuses fewer than 2 folds or a class smaller than k', () => {
    expect(() => stratifiedFolds(labels, 1, new Random(1))).toThrow(/at least 2 folds/);
    expect(() => stratifiedFolds([1, 1, 1, 0], 3, new Random(1))).toThrow(/class "0" has 1 documents/);
  });

  it('meanSd gives the mean and the sample standard deviation', () => {
    const m = meanSd([0.7, 0.8, 0.9]);
    expect(m.mean).toBeCloseTo(0.8, 10);
    expect(m.sd).toBeCloseTo(0.1, 10);
    expect(meanSd([0.5])).toEqual({ mean: 0.5, sd: 0 });
  });
});

describe('quality train defaults', () => {
  it('parse to the cross-validated values, without --cv', () => {
    const c = trainOptions.parse({ positive: ['p'], negative: ['n'], output: 'm.bin' });
    for (const [key, value] of Object.entries(QUALITY_DEFAULTS)) expect(c[key as keyof typeof c]).toBe(value);
    expect(c.cv).toBe(0);
    expect(c.balance).toBe(true);
    expect(() => trainOptions.parse({ positive: ['p'], negative: ['n'], output: 'm.bin', cv: 1.5 })).toThrow();
  });
});

describe('refinery quality train --cv', () => {
  // Two small vocabularies, mixed: easy to tell apart, not trivially.
  const words = (random: Random, vocab: string[], n: number) => Array.from({ length: n }, () => random.pick(vocab)).join(' ');
  const good = ['theorem', 'history', 'river', 'science', 'library', 'museum', 'the', 'of', 'and'];
  const bad = ['buy', 'cheap', 'click', 'free', 'deal', 'now', 'the', 'of', 'and'];
  const random = new Random(11);
  const docs = (main: string[], other: string[]) => Array.from({ length: 20 }, () => `${words(random, main, 30)} ${words(random, other, 10)}`);
  const pos = join(dir, 'pos.jsonl');
  const neg = join(dir, 'neg.jsonl');
  writeFileSync(pos, docs(good, bad).map((text) => JSON.stringify({ text })).join('\n'));
  writeFileSync(neg, docs(bad, good).map((text) => JSON.stringify({ text })).join('\n'));
  const args = (out: string) => ['quality', 'train', '--positive', pos, '--negative', neg, '-o', out, '--cv', '4', '--min-chars', '10', '--bucket', '1000', '--epoch', '10'];

  it('prints one row per fold and mean ± sd, trains on everything, and repeats exactly', () => {
    const model = join(dir, 'cv', 'm.bin');
    const r = cliOk(args(model));
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('4-fold cross-validation:');
    expect(lines[1]).toMatch(/^fold\s+train\s+test\s+ROC AUC\s+accuracy$/);
    for (let f = 1; f <= 4; f++) expect(lines[1 + f]).toMatch(new RegExp(`^${f}\\s+30\\s+10\\s+[01]\\.\\d{3}\\s+[01]\\.\\d{3}$`));
    expect(lines[6]).toMatch(/^mean ± sd\s+[01]\.\d{3} ± \d\.\d{3}\s+[01]\.\d{3} ± \d\.\d{3}$/);
    expect(lines[7]).toMatch(/cross-validated: ROC AUC [01]\.\d{3} ± \d\.\d{3}, accuracy [01]\.\d{3} ± \d\.\d{3}; trained on all documents$/);
    expect(r.stderr).toContain('20 hq and 20 cc documents to train on, 0 + 0 held out');
    const info = JSON.parse(readFileSync(model.replace(/\.bin$/, '.json'), 'utf8')) as { normalization: string; trained: { docs: Record<string, number>; cv: { k: number; folds: unknown[]; roc_auc: { mean: number } } } };
    expect(info.normalization).toBe(QUALITY_DEFAULTS.normalization);
    expect(info.trained.docs).toEqual({ hq: 20, cc: 20 });
    expect(info.trained.cv.k).toBe(4);
    expect(info.trained.cv.folds).toHaveLength(4);
    expect(info.trained.cv.roc_auc.mean).toBeGreaterThan(0.7);
    // Same seed, same folds, same numbers.
    expect(cliOk(args(join(dir, 'cv2', 'm.bin'))).stdout.split('\n').slice(0, 7)).toEqual(lines.slice(0, 7));
  }, 180_000);

  it('refuses more folds than the smaller class has documents', () => {
    const r = cli([...args(join(dir, 'cv3', 'm.bin')).slice(0, -6), '--cv', '30', '--min-chars', '10']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/fewer than 30 folds/);
  });
});
