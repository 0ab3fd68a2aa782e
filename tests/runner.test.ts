import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { runOptions, runStage } from '../pipeline/core/executor.js';
import { CORE_COLUMNS, type Doc } from '../pipeline/core/schema.js';
import { defineStage, drop, runTask, shardSink, type SinkOptions, type Stage } from '../pipeline/core/stage.js';
import { accountingViolations, type TaskStats } from '../pipeline/core/stats.js';
import { cleanup, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

/** A stage over text files: one document per line, with each step shape exercised. */
const lineStage = defineStage({
  name: 'lines',
  summary: 'test stage',
  options: z.object({ min_words: z.number().default(2) }).strict(),
  input: { kind: 'files', extensions: ['.txt'], what: 'text' },
  async open(task, _config, ctx) {
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(task.path, 'utf8').split('\n');
    function* docs(): Generator<Doc> {
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (line === '') continue;
        if (line.startsWith('#')) {
          ctx.reject({ id: `${task.rel}#${i + 1}`, text: line }, 'comment', `line ${i + 1}`);
          continue;
        }
        if (line === 'GARBAGE') {
          ctx.problem(`line ${i + 1}`, 'garbage between records');
          continue;
        }
        yield { id: `${task.rel}#${i + 1}`, text: line, source: `${task.path}:${i + 1}` };
      }
    }
    return { columns: CORE_COLUMNS, docs: docs() };
  },
  steps: (config) => [
    { name: 'count-words', kind: 'annotate', adds: [{ name: 'words', type: 'int32' }], apply: (d) => void (d.words = (d.text ?? '').split(/\s+/).length) },
    { name: 'min-words', kind: 'filter', apply: (d) => ((d.words as number) < config.min_words ? drop('too-few-words', `${d.words} words`) : undefined) },
    {
      name: 'shout',
      kind: 'transform',
      apply: (d) => {
        if (d.text?.includes('boom')) throw new Error('cannot shout boom');
        d.text = d.text?.toUpperCase();
      },
    },
  ],
}) as Stage;

function writeInputs(name: string, files: Record<string, string>): string {
  const input = join(dir, name);
  mkdirSync(input, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(input, file), text);
  return input;
}

describe('runTask', () => {
  it('applies steps in one pass, excludes with reasons, and keeps the books balanced', async () => {
    const input = writeInputs('one', { 'a.txt': 'hello big world\n# a comment\nsolo\nGARBAGE\nthe boom word\nlast good line\n' });
    const out = join(dir, 'one-out');
    const stats: TaskStats = await runTask({
      stage: lineStage,
      config: { min_words: 2 },
      configHash: 'test',
      task: { index: 0, path: join(input, 'a.txt'), rel: 'a.txt' },
      out,
    });
    expect(accountingViolations(stats)).toEqual([]);
    expect(stats).toMatchObject({ docs_in: 5, docs_kept: 2, docs_excluded: 3, problems_total: 1 });
    expect(stats.steps.map((s) => [s.name, s.in, s.out, s.dropped, s.errors])).toEqual([
      ['read', 5, 4, 1, 0],
      ['count-words', 4, 4, 0, 0],
      ['min-words', 4, 3, 1, 0],
      ['shout', 3, 2, 1, 1],
    ]);
    expect(stats.problems).toEqual([{ where: 'line 4', reason: 'garbage between records' }]);
    const kept = await readDocs(out);
    expect(kept.map((d) => [d.id, d.text, d.words])).toEqual([
      ['a.txt#1', 'HELLO BIG WORLD', 3],
      ['a.txt#6', 'LAST GOOD LINE', 3],
    ]);
    const excluded = await readDocs(join(out, '_excluded'));
    expect(excluded.map((d) => [d.id, d.excluded_by, d.reason])).toEqual([
      ['a.txt#2', 'read', 'comment: line 2'],
      ['a.txt#3', 'min-words', 'too-few-words: 1 words'],
      ['a.txt#5', 'shout', 'error: shout failed: cannot shout boom'],
    ]);
    expect(existsSync(join(out, '_done', 'task-00000'))).toBe(true);
    await expectAccounting(out);
  });

  it("gives a stage's own sink the task's index", async () => {
    const input = writeInputs('sink', { 'a.txt': 'two words\n' });
    const seen: SinkOptions[] = [];
    const stage = {
      ...lineStage,
      sink: () => (opts: SinkOptions) => {
        seen.push(opts);
        return shardSink(opts);
      },
    } as Stage;
    await runTask({ stage, config: { min_words: 2 }, configHash: 'test', task: { index: 12, path: join(input, 'a.txt'), rel: 'a.txt' }, out: join(dir, 'sink-out') });
    expect(seen.map((o) => [o.task, o.base])).toEqual([[12, 'part-00012']]);
  });

  it('detects broken accounting', () => {
    const broken: TaskStats = {
      task: 1, input: 'x', docs_in: 10, docs_kept: 7, docs_excluded: 2, bytes_in: 0, bytes_kept: 0, bytes_excluded: 0, seconds: 0,
      steps: [{ name: 'read', kind: 'read', in: 10, out: 10, dropped: 0, errors: 0, reasons: {}, bytes_dropped: 0 },
        { name: 'f', kind: 'filter', in: 10, out: 8, dropped: 2, errors: 0, reasons: { r: 1 }, bytes_dropped: 0 }],
      problems: [], problems_total: 0, counters: {}, outputs: [], excluded_outputs: [],
    };
    const v = accountingViolations(broken);
    expect(v).toContain('task 1 (x): 10 in != 7 kept + 2 excluded');
    expect(v).toContain('task 1 (x): step "f": reasons add up to 1, dropped 2');
    expect(v).toContain('task 1 (x): last step passed 8, kept 7');
  });
});

describe('runStage (in-process)', () => {
  const files: Record<string, string> = {};
  for (let f = 0; f < 6; f++) files[`f${f}.txt`] = Array.from({ length: 20 }, (_, i) => `file ${f} line ${i} ${i % 4 === 0 ? '' : 'more words'}`.trim()).join('\n');

  it('skips finished tasks on rerun and refuses another config in the same output', async () => {
    const input = writeInputs('many', files);
    const out = join(dir, 'many-out');
    const options = runOptions.parse({ progress: 'off' });
    const first = await runStage({ stage: lineStage, config: { min_words: 4 }, inputs: [input], out, options, log: () => {} });
    expect(first.ran).toBe(6);
    await expectAccounting(out);
    const again = await runStage({ stage: lineStage, config: { min_words: 4 }, inputs: [input], out, options, log: () => {} });
    expect([again.ran, again.skipped]).toEqual([0, 6]);
    await expect(runStage({ stage: lineStage, config: { min_words: 7 }, inputs: [input], out, options, log: () => {} })).rejects.toThrow(/another config.*--overwrite/);
    const replaced = await runStage({ stage: lineStage, config: { min_words: 7 }, inputs: [input], out, options: { ...options, overwrite: true }, log: () => {} });
    expect(replaced.ran).toBe(6);
    expect(replaced.totals.docs_kept).toBe(0);
    expect(readdirSync(out).filter((n) => n.endsWith('.arrow'))).toEqual([]);
    await expect(runStage({ stage: lineStage, config: { min_words: 4 }, inputs: [input], out: input, options, log: () => {} })).rejects.toThrow(/is the input/);
  });
});
