import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { loadPipeline } from '../pipeline/cli/pipeline-file.js';
import { byteSize, configHash, describeOptions, parseOptions } from '../pipeline/core/config.js';
import { UserError } from '../pipeline/core/errors.js';
import { resolvePlacement } from '../pipeline/core/executor.js';
import { operationByName } from '../pipeline/stages.js';
import { cleanup, tempDir } from './helpers/cli.js';

const schema = z
  .object({
    text_field: z.string().default('text').describe('field with the text'),
    min_chars: z.number().int().min(0).default(1).describe('minimum characters'),
    mode: z.enum(['file', 'line']).default('file').describe('mode'),
    languages: z.array(z.string()).optional().describe('languages'),
    strict: z.boolean().default(true).describe('be strict'),
  })
  .strict();

describe('options declared once', () => {
  it('gives flags, kinds, defaults and help from the schema', () => {
    const info = describeOptions(schema);
    expect(info.map((i) => [i.key, i.flag, i.kind, i.default])).toEqual([
      ['text_field', '--text-field', 'string', 'text'],
      ['min_chars', '--min-chars', 'number', 1],
      ['mode', '--mode', 'enum', 'file'],
      ['languages', '--languages', 'list', undefined],
      ['strict', '--strict', 'boolean', true],
    ]);
    expect(info[2].choices).toEqual(['file', 'line']);
    expect(info[0].description).toBe('field with the text');
  });

  it('names the bad key and what is allowed', () => {
    const attempt = (raw: unknown) => {
      try {
        parseOptions(schema, raw, 'stage.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        return (err as Error).message;
      }
      throw new Error('expected a validation error');
    };
    expect(attempt({ min_chras: 3 })).toBe(
      'stage.yaml: unknown key "min_chras" (allowed: text_field, min_chars, mode, languages, strict)',
    );
    expect(attempt({ min_chars: -2 })).toMatch(/^stage\.yaml: "min_chars": Too small: expected number to be >=0$/);
    expect(attempt({ mode: 'page' })).toMatch(/"mode": Invalid option: expected one of "file"\|"line"/);
    expect(parseOptions(schema, {}, 'x')).toEqual({ text_field: 'text', min_chars: 1, mode: 'file', strict: true });
  });

  it('hashes configs independently of key order', () => {
    expect(configHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(configHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });

  it('parses byte sizes', () => {
    expect(byteSize().parse('256MB')).toBe(256e6);
    expect(byteSize().parse('1GiB')).toBe(2 ** 30);
    expect(byteSize().parse(1234)).toBe(1234);
    expect(byteSize().safeParse('lots').success).toBe(false);
  });
});

describe('placement from flags and schedulers', () => {
  it('reads Slurm array variables, offset by the array minimum', () => {
    expect(resolvePlacement({}, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' })).toMatchObject({ rank: 4, worldSize: 8 });
  });
  it('reads a Kubernetes Indexed Job index with REFINERY_WORLD_SIZE', () => {
    expect(resolvePlacement({}, { JOB_COMPLETION_INDEX: '2', REFINERY_WORLD_SIZE: '3' })).toMatchObject({ rank: 2, worldSize: 3 });
    expect(() => resolvePlacement({}, { JOB_COMPLETION_INDEX: '2' })).toThrow(/REFINERY_WORLD_SIZE/);
  });
  it('lets flags win over the environment and checks the range', () => {
    expect(resolvePlacement({ rank: 1, world_size: 2 }, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ rank: 1, worldSize: 2, from: 'flags' });
    expect(() => resolvePlacement({ rank: 3, world_size: 3 }, {})).toThrow(/outside world size/);
    expect(resolvePlacement({}, {})).toMatchObject({ rank: 0, worldSize: 1 });
  });
});

describe('pipeline files', () => {
  const dir = tempDir();
  afterAll(() => cleanup(dir));
  const write = (text: string) => {
    const file = join(dir, `p${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('chains outputs to inputs and separates run options from stage options', () => {
    const file = write(`workers: 3\nstages:\n  - stage: import\n    input: corpus/\n    output: out/raw\n    min_chars: 50\n  - stage: dedup-minhash\n    output: out/unique\n    bands: 9\n  - stage: export\n    output: out/jsonl\n    format: jsonl\n    retries: 2\n`);
    const steps = loadPipeline(file, operationByName).parts;
    expect(steps.map((s) => [s.operation.name, s.ctx.inputs, s.ctx.out])).toEqual([
      ['import', ['corpus/'], 'out/raw'],
      ['dedup-minhash', ['out/raw'], 'out/unique'],
      ['export', ['out/unique'], 'out/jsonl'],
    ]);
    expect(steps[1].config).toMatchObject({ bands: 9, rows: 8, keep: 'first' });
    expect(steps[0].config.min_chars).toBe(50);
    expect(steps[0].options.workers).toBe(3);
    expect(steps[2].options).toMatchObject({ workers: 3, retries: 2 });
  });

  it('reports the stage and key that are wrong', () => {
    const file = write(`stages:\n  - stage: import\n    input: a\n    output: b\n  - stage: export\n    output: c\n    fromat: jsonl\n`);
    expect(() => loadPipeline(file, operationByName)).toThrow(`${file}: stages[1] (export): unknown key "fromat" (allowed: format, columns, unfold_metadata, row_group_rows, row_group_size, license, language, name)`);
    expect(() => loadPipeline(write('stages:\n  - stage: nope\n    output: x\n'), operationByName)).toThrow(/unknown stage "nope"/);
    expect(() => loadPipeline(write('stages: [\n'), operationByName)).toThrow(/invalid YAML/);
    expect(() => loadPipeline(write('stages:\n  - stage: export\n    output: x\n'), operationByName)).toThrow(/"input" is required for the first stage/);
  });
});
