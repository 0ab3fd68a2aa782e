/**
 * configs/commoncrawl-multilingual.yaml over the sample web (15 languages besides English)
 * through the real CLI: its stages as shipped, with the sample web's WARC files in place of
 * the crawl. Every language the sample web writes reaches the mix, the quality stage judges each
 * by its own settings, and English keeps its verdicts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FOREIGN_LANGUAGES } from '../datasets/sample-web/sources.js';
import { readTaskStats, sumStats } from '../pipeline/core/stats.js';
import { cleanup, cliOk, readDocs, repoRoot, tempDir } from './helpers/cli.js';

const dir = tempDir();
const out = (name: string) => join(dir, name);
afterAll(() => cleanup(dir));

beforeAll(() => {
  cliOk(['sample-web', '-o', out('web'), '--pages', '900', '--seed', '3', '--pages-per-file', '300']);
  const recipe = parse(readFileSync(join(repoRoot, 'configs', 'commoncrawl-multilingual.yaml'), 'utf8')) as { stages: Record<string, unknown>[] };
  const stages = recipe.stages.map((s) => {
    const output = out(String(s.output).split('/').pop()!);
    if (s.stage !== 'ingest') return { ...s, output };
    const { cc: _cc, files: _files, ...rest } = s;
    return { ...rest, input: out('web'), output };
  });
  writeFileSync(out('recipe.yaml'), stringify({ ...recipe, progress: 'off', retries: 0, stages }));
  cliOk(['run', out('recipe.yaml')]);
}, 240_000);

describe('configs/commoncrawl-multilingual.yaml on the sample web', () => {
  it('keeps every language of the sample web, each judged by its own settings', async () => {
    const kept = await readDocs(out('quality'));
    const langs = new Set(kept.map((d) => d.lang));
    const wanted = new Set(Object.values(FOREIGN_LANGUAGES));
    const missing = [...wanted].filter((l) => !langs.has(l));
    // 900 pages give each of the 15 languages a handful of pages: nearly all must get through.
    expect(missing.length, `missing: ${missing.join(',')}`).toBeLessThanOrEqual(2);
    expect(langs.has('en')).toBe(true);
    const excluded = await readDocs(join(out('quality'), '_excluded'));
    const foreign = (docs: typeof kept) => docs.filter((d) => typeof d.lang === 'string' && wanted.has(d.lang)).length;
    // UDHR pages are good text: the multilingual settings keep most of them.
    expect(foreign(kept) / (foreign(kept) + foreign(excluded))).toBeGreaterThan(0.8);
    // The funnel per language, in the stage's counters.
    const counters = sumStats(readTaskStats(out('quality'))).counters;
    expect(counters['rules by language, passed:ja']).toBe(kept.filter((d) => d.lang === 'ja').length);
    expect(counters['rules by language, in:ja']).toBeGreaterThanOrEqual(counters['rules by language, passed:ja']);
  });

  it('mixes by language', async () => {
    const report = JSON.parse(readFileSync(join(out('mix'), '_mix.json'), 'utf8')) as Record<string, unknown>;
    expect(JSON.stringify(report)).toContain('"ja"');
    const mixed = await readDocs(out('mix'));
    expect(new Set(mixed.map((d) => d.lang)).size).toBeGreaterThanOrEqual(10);
  });
});
