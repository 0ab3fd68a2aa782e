import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import { describeOptions } from '../pipeline/core/config.js';
import { runOptions } from '../pipeline/core/executor.js';
import { META } from '../pipeline/core/schema.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import type * as z from 'zod';
import { dedupOptions } from '../pipeline/dedup/index.js';
import { lineOptions } from '../pipeline/dedup/lines.js';
import { deconOptions, reportOptions as deconReportOptions } from '../pipeline/decontaminate/index.js';
import { qualityOptions } from '../pipeline/quality/index.js';
import { trainOptions } from '../pipeline/quality/train.js';
import { domainTrainOptions } from '../pipeline/domains/train.js';
import { mixOptions } from '../pipeline/mix/index.js';
import { selectOptions } from '../pipeline/select/index.js';
import { tokenizeOptions, tokenizerTrainOptions } from '../pipeline/tokenize/index.js';
import { trainOptions as gptTrainOptions } from '../trainer/config.js';
import { chatOptions, dpoOptions, sftOptions } from '../trainer/post-options.js';
import { evalOptions } from '../trainer/checkpoint-options.js';
import { planOptions } from '../trainer/plan.js';
import { sweepOptions } from '../trainer/scaling-options.js';
import { k8sOptions } from '../pipeline/executors/k8s.js';
import { viewOptions } from '../pipeline/cli/commands/view.js';
import { slurmOptions } from '../pipeline/executors/slurm.js';
import { STAGES } from '../pipeline/stages.js';
import { cleanup, cli, cliAsync, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
let corpus: string;
let raw: string;
afterAll(() => cleanup(dir));

beforeAll(() => {
  corpus = join(dir, 'corpus');
  writeBrownJsonl(corpus);
  raw = join(dir, 'raw');
  const r = cli(['import', corpus, '-o', raw, '--min-chars', '10500', '--workers', '2', '--progress', 'log']);
  expect(r.stderr).toContain('import: 15 tasks');
  expect(r.code).toBe(0);
});

describe('refinery import / inspect / stats / export on the Brown corpus', () => {
  it('imports every document, kept or excluded with its reason', async () => {
    const totals = await expectAccounting(raw);
    expect(totals.docs_in).toBe(500);
    expect(totals.docs_excluded).toBeGreaterThan(0);
    expect(totals.steps.find((s) => s.name === 'min-chars')?.reasons).toEqual({ 'too-short': totals.docs_excluded });
    const excluded = await readDocs(join(raw, '_excluded'));
    for (const doc of excluded) {
      expect(doc.excluded_by).toBe('min-chars');
      expect((doc.text as string).length).toBeLessThan(10500);
    }
  });

  it('inspect summarises schema and columns, shows documents, finds one by id', () => {
    const r = cli(['inspect', raw, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows).toBeGreaterThan(0);
    expect(report.metadata[META.stage]).toBe('import');
    expect(report.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'url', 'source', 'fetched_at', 'content_type', 'text', 'lang', 'lang_score', 'metadata']);
    const text = report.columns.find((c: { name: string }) => c.name === 'text');
    expect(text.nulls).toBe(0);
    expect(text.min).toBeGreaterThanOrEqual(10500);

    const head = cli(['inspect', raw, '--head', '2', '--truncate', '40']);
    expect(head.code).toBe(0);
    expect(head.stdout.match(/^── brown\//gm)).toHaveLength(2);
    expect(head.stdout).toMatch(/… \([\d,]+ chars\)/);

    const one = cli(['inspect', raw, '--id', 'brown/ca01', '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).text).toMatch(/^The Fulton County Grand Jury said Friday/);

    const ex = cli(['inspect', raw, '--excluded', '--json']);
    const exReport = JSON.parse(ex.stdout);
    expect(exReport.columns.find((c: { name: string }) => c.name === 'excluded_by').top).toEqual([['min-chars', exReport.rows]]);

    const missing = cli(['inspect', raw, '--id', 'no-such-doc']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`refinery: ${raw}: no document with id "no-such-doc"`);
  });

  it('stats prints the funnel, as JSON, and as an SVG chart', async () => {
    const out = join(dir, 'jsonl');
    const e = cli(['export', raw, '-o', out, '--format', 'jsonl.gz']);
    expect(e.code).toBe(0);
    await expectAccountingOfExport(out);
    const svg = join(dir, 'charts', 'funnel.svg');
    const r = cli(['stats', raw, out, '--json', '--svg', svg]);
    expect(r.code).toBe(0);
    const funnel = JSON.parse(r.stdout);
    expect(funnel.map((f: { stage: string }) => f.stage)).toEqual(['import', 'export']);
    expect(funnel[0].docs_in).toBe(500);
    expect(funnel[1].docs_in).toBe(funnel[0].docs_kept);
    expect(funnel[0].accounting).toBe('ok');
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*excluded: min-chars[\s\S]*<\/svg>\n$/);
    const table = cli(['stats', raw]);
    expect(table.stdout).toMatch(/^import +\S+ +15 +500 +\d+ +\d+/m);
    expect(table.stdout).toMatch(/^ +min-chars +500 /m);
  });

  it('export gives back the records that were imported', () => {
    const out = join(dir, 'roundtrip');
    const e = cli(['export', raw, '-o', out, '--format', 'jsonl']);
    expect(e.code).toBe(0);
    const exported = readdirSync(out)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .flatMap((n) => readFileSync(join(out, n), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
    const original = readdirSync(corpus)
      .sort()
      .flatMap((n) => gunzipSync(readFileSync(join(corpus, n))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l)))
      .filter((r) => r.text.length >= 10500);
    expect(exported.length).toBe(original.length);
    const byId = new Map(exported.map((r) => [r.id, r]));
    for (const rec of original) {
      expect(byId.get(rec.id)).toMatchObject({ id: rec.id, text: rec.text, genre: rec.genre, corpus: rec.corpus });
    }
  });
});

async function expectAccountingOfExport(out: string) {
  // Export writes JSONL, not shards: check the books from the stats and count the lines.
  const { readTaskStats, accountingViolations, sumStats } = await import('../pipeline/core/stats.js');
  const stats = readTaskStats(out);
  expect(stats.flatMap(accountingViolations)).toEqual([]);
  const lines = readdirSync(out)
    .filter((n) => n.endsWith('.jsonl.gz'))
    .reduce((n, f) => n + gunzipSync(readFileSync(join(out, f))).toString('utf8').trim().split('\n').length, 0);
  expect(lines).toBe(sumStats(stats).docs_kept);
}

describe('help', () => {
  it('lists every stage, and every option of a stage with its explanation', async () => {
    const top = cli(['--help']);
    expect(top.code).toBe(0);
    const stages = STAGES.filter((s) => !s.internal);
    for (const stage of stages) expect(top.stdout).toContain(stage.name);
    for (const cmd of ['dedup', 'quality', 'mix', 'select', 'tokenizer', 'tokenize', 'train', 'generate', 'plan', 'scaling', 'eval', 'perplexity', 'slurm', 'k8s', 'run', 'inspect', 'stats', 'decontaminate', 'sample-tasks', 'sft', 'dpo', 'chat', 'sample-chat', 'view']) expect(top.stdout).toContain(cmd);
    const commands: [string[], z.ZodObject[]][] = [
      ...stages.map((stage): [string[], z.ZodObject[]] => [[stage.name], [stage.options, runOptions]]),
      [['dedup', 'minhash'], [dedupOptions, runOptions]],
      [['dedup', 'exact'], [dedupOptions, runOptions]],
      [['dedup', 'lines'], [lineOptions, runOptions]],
      [['quality', 'filter'], [qualityOptions, runOptions]],
      [['quality', 'train'], [trainOptions.omit({ output: true })]],
      [['quality', 'explain'], [qualityOptions.omit({ keep_top: true })]],
      [['domains', 'train'], [domainTrainOptions.omit({ output: true })]],
      [['decontaminate'], [deconOptions, runOptions]],
      [['decontaminate', 'report'], [deconReportOptions, runOptions]],
      [['eval'], [evalOptions]],
      [['mix'], [mixOptions, runOptions]],
      [['select'], [selectOptions, runOptions]],
      [['tokenizer', 'train'], [tokenizerTrainOptions.omit({ inputs: true, output: true })]],
      [['tokenize'], [tokenizeOptions, runOptions]],
      [['train'], [gptTrainOptions]],
      [['sft'], [sftOptions]],
      [['dpo'], [dpoOptions]],
      [['chat'], [chatOptions]],
      [['plan'], [planOptions]],
      [['scaling', 'sweep'], [sweepOptions]],
      [['slurm'], [slurmOptions]],
      [['k8s'], [k8sOptions]],
      [['view'], [viewOptions]],
    ];
    // Four processes at a time: each pays the CLI's start-up, and 20-odd in a row overran the limit on a loaded machine.
    const helps: string[] = [];
    for (let i = 0; i < commands.length; i += 4) {
      const batch = commands.slice(i, i + 4).map(([cmd]) => cliAsync([...cmd, '--help']));
      for (const r of await Promise.all(batch)) helps.push(r.stdout.replace(/\s+/g, ' ')); // commander wraps long lines
    }
    for (const [i, [cmd, schemas]] of commands.entries()) {
      const help = helps[i];
      for (const info of schemas.flatMap((s) => describeOptions(s))) {
        const flag = info.kind === 'boolean' && info.default === true ? `--no-${info.flag.slice(2)}` : info.flag;
        expect(help, cmd.join(' ')).toContain(flag);
        expect(help, cmd.join(' ')).toContain(info.description.slice(0, 30));
      }
    }
  }, 120_000);
});

describe('shipped configs', () => {
  it('every pipeline file in configs/ validates (the Common Crawl recipe starts with ingest --cc, without input)', () => {
    for (const file of ['configs/demo.yaml', 'configs/commoncrawl.yaml', 'configs/commoncrawl-multilingual.yaml']) {
      const r = cli(['run', file, '--list-phases']);
      expect(r.code, `${file}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^1-ingest +map /m);
    }
  });
});

describe('bad input: one line naming the problem, exit code 2, nothing written', () => {
  const expectUsageError = (args: string[], pattern: RegExp, out?: string) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    if (out) expect(existsSync(out)).toBe(false);
  };

  it('unknown flag', () => expectUsageError(['import', 'x', '-o', join(dir, 'u1'), '--min-char', '3'], /unknown option '--min-char'/, join(dir, 'u1')));
  it('bad number', () => expectUsageError(['import', 'x', '-o', join(dir, 'u2'), '--min-chars', 'abc'], /not a number: "abc"/, join(dir, 'u2')));
  it('bad choice', () => expectUsageError(['export', raw, '-o', join(dir, 'u3'), '--format', 'csv'], /Allowed choices are jsonl, jsonl\.gz/, join(dir, 'u3')));
  it('missing input', () => expectUsageError(['import', join(dir, 'nope'), '-o', join(dir, 'u4')], /nope: no such file or directory/, join(dir, 'u4')));
  it('unknown command', () => expectUsageError(['improt'], /unknown command 'improt'/));

  it('a file that is not Arrow', () => {
    const bad = join(dir, 'bad-input');
    mkdirSync(bad);
    writeFileSync(join(bad, 'part-00000-0000.arrow'), 'this is not arrow\n');
    expectUsageError(['export', bad, '-o', join(dir, 'u5')], /part-00000-0000\.arrow: not an Arrow IPC file/, join(dir, 'u5'));
  });

  it('a shard of another schema version', () => {
    const future = join(dir, 'future');
    mkdirSync(future);
    const w = new ShardWriter({ dir: future, base: 'part-00000', columns: [{ name: 'id', type: 'string' }], metadata: { [META.schemaVersion]: '9' } });
    w.write({ id: 'a' });
    w.publish();
    expectUsageError(['export', future, '-o', join(dir, 'u6')], /schema version 9; this refinery reads version 1/, join(dir, 'u6'));
  });

  it('an invalid option in a --config file', () => {
    const cfg = join(dir, 'bad-config.yaml');
    writeFileSync(cfg, 'min_chars: -5\ntext_feild: body\n');
    expectUsageError(['import', corpus, '-o', join(dir, 'u7'), '--config', cfg], /bad-config\.yaml: "min_chars": Too small.*unknown key "text_feild" \(allowed: text_field, id_field/, join(dir, 'u7'));
  });

  it('an output directory that belongs to something else, or is the input', () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine\n');
    expectUsageError(['import', corpus, '-o', foreign], /foreign: exists and is not a refinery output directory/);
    expectUsageError(['import', corpus, '-o', corpus], /corpus: is the input .*corpus; write the output to another directory/);
  });
});

describe('refinery run', () => {
  it('runs the stages of a pipeline file in order, each reading the previous output', async () => {
    const out = join(dir, 'pipe');
    const file = join(dir, 'pipeline.yaml');
    writeFileSync(
      file,
      `progress: log\nstages:\n  - stage: import\n    input: ${corpus}\n    output: ${out}/raw\n    min_chars: 12000\n  - stage: export\n    output: ${out}/jsonl\n    format: jsonl\n`,
    );
    const r = cli(['run', file, '--workers', '2']);
    expect(r.code).toBe(0);
    const totals = await expectAccounting(join(out, 'raw'));
    const lines = readdirSync(join(out, 'jsonl'))
      .filter((n) => n.endsWith('.jsonl'))
      .reduce((n, f) => n + readFileSync(join(out, 'jsonl', f), 'utf8').trim().split('\n').filter(Boolean).length, 0);
    expect(lines).toBe(totals.docs_kept);
    const rerun = cli(['run', file]);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('0 to run, 15 already done');
  });
});

describe('damaged input keeps every intact record and reports the damage', () => {
  it('a truncated gzip file and invalid UTF-8', async () => {
    const input = join(dir, 'damaged');
    mkdirSync(input);
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document number ${i} `.repeat(20 + (i % 7)) }));
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(`${lines.join('\n')}\n`);
    writeFileSync(join(input, 'cut.jsonl.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
    writeFileSync(join(input, 'latin1.jsonl'), Buffer.concat([Buffer.from('{"id":"ok","text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    const out = join(dir, 'damaged-out');
    const r = cli(['import', input, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cut\.jsonl\.gz: end of file: damaged gzip stream after line \d+: unexpected end of file/);
    const totals = await expectAccounting(out);
    expect(totals.problems).toBe(2);
    const kept = await readDocs(out);
    const fromCut = kept.filter((d) => d.id.startsWith('d'));
    // Every record before the damage, in order; the record cut in half is excluded, not lost.
    expect(fromCut.map((d) => d.id)).toEqual(fromCut.map((_, i) => `d${i}`));
    expect(fromCut.length).toBeGreaterThan(100);
    const excluded = await readDocs(join(out, '_excluded'));
    expect(excluded.map((d) => d.reason)).toEqual(['malformed-json: line cut off by the damaged stream']);
    expect(kept.find((d) => d.id === 'ok')?.text).toBe('caf\uFFFD');
  });
});

describe('an empty stage output', () => {
  it('is a valid input: the next stage runs no task and reports zero documents', async () => {
    const everything = join(dir, 'all-excluded');
    expect(cli(['import', corpus, '-o', everything, '--min-chars', '100000']).code).toBe(0);
    const totals = await expectAccounting(everything);
    expect([totals.docs_in, totals.docs_kept]).toEqual([500, 0]);
    const next = cli(['export', everything, '-o', join(dir, 'nothing')]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('export: 0 tasks');
    const funnel = JSON.parse(cli(['stats', everything, join(dir, 'nothing'), '--json']).stdout);
    expect(funnel.map((f: { docs_in: number }) => f.docs_in)).toEqual([500, 0]);
  });
});
