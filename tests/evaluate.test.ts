/**
 * The evaluation harness and the perplexity filter with a model that learned a small world:
 * it must answer multiple-choice questions about it above chance, and score its own kind of
 * text at a lower perplexity than shuffled words.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../pipeline/core/random.js';
import { suiteTable, type SuiteResult } from '../trainer/eval-suite.js';
import { bootstrapInterval, devSplit, multipleChoice, openScorer, readTasks, scoreText, type McResult } from '../trainer/evaluate.js';
import { pickTemplates, TEMPLATES, workedExample } from '../trainer/templates.js';
import { UserError } from '../pipeline/core/errors.js';
import { cleanup, cli, cliOk, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

const FACTS: [string, string][] = [
  ['What does the cat sit on?', 'the mat'],
  ['What colour is the sky?', 'blue'],
  ['Who guards the house?', 'the dog'],
  ['What does the bird eat?', 'seeds'],
  ['Where does the fish swim?', 'the river'],
  ['What does the cow give?', 'milk'],
];

beforeAll(() => {
  const random = new Random(1);
  const lines: string[] = [];
  for (let i = 0; i < 600; i++) {
    const [q, a] = FACTS[random.int(0, FACTS.length - 1)];
    lines.push(JSON.stringify({ id: `d${i}`, text: `Question: ${q}\nAnswer: ${a}` }));
  }
  mkdirSync(join(dir, 'corpus'), { recursive: true });
  writeFileSync(join(dir, 'corpus', 'qa.jsonl'), `${lines.join('\n')}\n`);
  cliOk(['import', join(dir, 'corpus'), '-o', join(dir, 'docs'), '--progress', 'off']);
  cliOk(['tokenizer', 'train', join(dir, 'docs'), '-o', join(dir, 'tok.json'), '--vocab', '320']);
  cliOk(['tokenize', join(dir, 'docs'), '-o', join(dir, 'tokens'), '--tokenizer', join(dir, 'tok.json'), '--progress', 'off']);
  cliOk(['train', '--data', join(dir, 'tokens'), '--out', join(dir, 'run'), '--context', '32', '--d-model', '32', '--layers', '2', '--heads', '2', '--batch-size', '16', '--steps', '150', '--warmup', '10', '--lr', '0.01', '--eval-every', '1000', '--log-every', '50']);
  const tasks = FACTS.map(([q, a], i) => ({ question: q, choices: [a, ...FACTS.filter((_, j) => j !== i).slice(0, 2).map(([, x]) => x)], answer: 0 }));
  writeFileSync(join(dir, 'tasks.jsonl'), tasks.map((t) => JSON.stringify(t)).join('\n'));
}, 180_000);

describe('refinery eval', () => {
  it('answers multiple-choice questions about what it learned above chance', async () => {
    const scorer = await openScorer(join(dir, 'run', 'checkpoint'));
    try {
      const r = multipleChoice(scorer, readTasks(join(dir, 'tasks.jsonl')));
      expect(r.tasks).toBe(6);
      expect(r.chance).toBeCloseTo(1 / 3);
      expect(r.acc).toBeGreaterThanOrEqual(5 / 6);
      // Its own kind of text is far more likely than the same words shuffled.
      const seen = scoreText(scorer, 'Question: What colour is the sky?\nAnswer: blue');
      const shuffled = scoreText(scorer, 'sky the blue Answer: colour What is Question: ?\n');
      expect(seen.nats / seen.tokens).toBeLessThan(shuffled.nats / shuffled.tokens);
    } finally {
      scorer.dispose();
    }
    const out = cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', join(dir, 'tasks.jsonl'), '--data', join(dir, 'docs'), '--max-docs', '50', '--json']);
    const json = JSON.parse(out.stdout) as { tasks: { acc: number }; data: { documents: number; bits_per_byte: number } };
    expect(json.data.documents).toBe(50);
    expect(json.data.bits_per_byte).toBeGreaterThan(0);
    const bad = cli(['eval', '--checkpoint', join(dir, 'run', 'checkpoint')]);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('eval --contamination scores the items a decontamination report found apart from the clean ones', () => {
    // A crawl that holds three of the six questions (re-cased, inside other text).
    mkdirSync(join(dir, 'crawl'), { recursive: true });
    const pages = FACTS.slice(0, 3).map(([q], i) => ({ id: `p${i}`, text: `Some page text before. ${q.toUpperCase()} And some after.` }));
    writeFileSync(join(dir, 'crawl', 'pages.jsonl'), pages.map((p) => JSON.stringify(p)).join('\n'));
    cliOk(['import', join(dir, 'crawl'), '-o', join(dir, 'crawl-docs'), '--progress', 'off']);
    const report = join(dir, 'contamination.json');
    cliOk(['decontaminate', 'report', join(dir, 'crawl-docs'), '-o', report, '--against', join(dir, 'tasks.jsonl'), '--progress', 'off']);
    const out = cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', join(dir, 'tasks.jsonl'), '--contamination', report, '--json']);
    const json = JSON.parse(out.stdout) as { tasks: { tasks: number; acc: number }; contamination: { clean: { tasks: number; acc: number }; contaminated: { tasks: number; acc: number }; contaminated_ids: string[] } };
    expect(json.contamination.contaminated_ids).toEqual(['tasks:1', 'tasks:2', 'tasks:3']);
    expect(json.contamination.clean.tasks).toBe(3);
    expect(json.contamination.contaminated.tasks).toBe(3);
    expect((json.contamination.clean.acc * 3 + json.contamination.contaminated.acc * 3) / 6).toBeCloseTo(json.tasks.acc);
    const text = cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', join(dir, 'tasks.jsonl'), '--contamination', report]);
    expect(text.stdout).toMatch(/eval: clean +3 tasks: acc/);
    expect(text.stdout).toMatch(/eval: contaminated 3 tasks: acc/);
    // A report made against other tasks is refused.
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, `${JSON.stringify({ question: 'Why?', choices: ['a', 'b'], answer: 0 })}\n`);
    expect(cli(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', other, '--contamination', report]).code).toBe(2);
  }, 120_000);

  it('eval --shots draws worked examples from a dev split never scored, with a fixed seed, and gives bootstrap intervals', () => {
    const run = (...extra: string[]) => JSON.parse(cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', join(dir, 'tasks.jsonl'), '--json', ...extra]).stdout) as { tasks: { tasks: number; shots: number; acc: number; acc_ci: [number, number]; acc_norm: number; acc_norm_ci: [number, number] } };
    const zero = run();
    expect(zero.tasks.tasks).toBe(6);
    const two = run('--shots', '2');
    expect(two.tasks.shots).toBe(2);
    expect(two.tasks.tasks).toBe(4); // 2 of the 6 are the dev split
    expect(run('--shots', '2')).toEqual(two); // the same seed, the same examples, the same intervals
    for (const r of [zero.tasks, two.tasks]) {
      expect(r.acc_ci[0]).toBeLessThanOrEqual(r.acc);
      expect(r.acc_ci[1]).toBeGreaterThanOrEqual(r.acc);
      expect(r.acc_norm_ci[0]).toBeLessThanOrEqual(r.acc_norm);
      expect(r.acc_norm_ci[1]).toBeGreaterThanOrEqual(r.acc_norm);
    }
    // With --dev, every item of --tasks is scored.
    expect(run('--shots', '2', '--dev', join(dir, 'tasks.jsonl')).tasks.tasks).toBe(6);
    const text = cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', join(dir, 'tasks.jsonl'), '--shots', '1']).stdout;
    expect(text).toMatch(/eval: 5 tasks, 1-shot: acc \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\], acc_norm/);
    expect(cli(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', join(dir, 'tasks.jsonl'), '--shots', '6']).code).toBe(2);
    // The split and the intervals themselves.
    const tasks = readTasks(join(dir, 'tasks.jsonl'));
    const { dev, test } = devSplit(tasks, 2, 1);
    expect(dev).toHaveLength(2);
    expect(new Set([...dev, ...test]).size).toBe(6);
    expect(bootstrapInterval([1, 1, 1, 1])).toEqual([1, 1]);
    const half = bootstrapInterval(Array.from({ length: 400 }, (_, i) => i % 2));
    expect(half[0]).toBeGreaterThan(0.43);
    expect(half[1]).toBeLessThan(0.57);
    expect(half[0]).toBeLessThan(0.5);
    expect(half[1]).toBeGreaterThan(0.5);
  }, 120_000);

  it('refinery sample-tasks writes the UDHR-articles task, with exact answers, that eval scores', () => {
    const file = join(dir, 'udhr.jsonl');
    cliOk(['sample-tasks', '-o', file]);
    const tasks = readTasks(file);
    expect(tasks).toHaveLength(30);
    tasks.forEach((t, i) => {
      expect(t.choices).toHaveLength(4);
      expect(t.choices[t.answer]).toBe(`Article ${i + 1}`);
    });
    expect(tasks[0].question).toContain('All human beings are born free and equal in dignity and rights.');
    const json = JSON.parse(cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', file, '--shots', '3', '--json']).stdout) as { tasks: { tasks: number; chance: number } };
    expect(json.tasks.tasks).toBe(27);
    expect(json.tasks.chance).toBeCloseTo(0.25);
  }, 120_000);

  it('eval --templates scores every item under each prompt template and averages them, with an interval on each', () => {
    const ck = join(dir, 'run', 'checkpoint');
    const run = (...extra: string[]) => JSON.parse(cliOk(['eval', '--checkpoint', ck, '--tasks', join(dir, 'tasks.jsonl'), '--json', ...extra]).stdout) as { tasks: McResult };
    const all = run('--templates', 'all', '--shots', '1');
    expect(all.tasks.templates.map((t) => t.template)).toEqual(TEMPLATES.map((t) => t.name));
    const mean = all.tasks.templates.reduce((a, t) => a + t.acc, 0) / TEMPLATES.length;
    expect(all.tasks.acc).toBeCloseTo(mean, 10);
    for (const t of [all.tasks, ...all.tasks.templates]) {
      expect(t.acc_ci[0]).toBeLessThanOrEqual(t.acc);
      expect(t.acc_ci[1]).toBeGreaterThanOrEqual(t.acc);
    }
    expect(all.tasks.acc_ci_width).toBeCloseTo(all.tasks.acc_ci[1] - all.tasks.acc_ci[0], 10);
    expect(run('--templates', 'all', '--shots', '1')).toEqual(all); // deterministic
    // The first template alone is the default; names pick templates.
    const first = run('--shots', '1');
    expect(first.tasks.templates).toEqual([all.tasks.templates[0]]);
    expect(run('--templates', 'lettered,cloze', '--shots', '1').tasks.templates).toEqual(all.tasks.templates.slice(2));
    const text = cliOk(['eval', '--checkpoint', ck, '--tasks', join(dir, 'tasks.jsonl'), '--templates', '2']).stdout;
    expect(text).toMatch(/eval: 6 tasks, 0-shot, mean of 2 templates: acc \d\.\d{3} \[/);
    expect(text).toMatch(/eval: {3}q-a +acc \d\.\d{3} \[/);
    const bad = cli(['eval', '--checkpoint', ck, '--tasks', join(dir, 'tasks.jsonl'), '--templates', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no template "bogus" \(have question-answer, q-a, lettered, cloze/);
    for (const spec of ['0', '9', 'q-a,q-a']) expect(() => pickTemplates(spec)).toThrow(UserError);
    // The templates' prompts differ, and a worked example is the prompt with its answer.
    const item = { question: 'Who guards the house?', choices: ['the dog', 'milk'], answer: 0 };
    expect(new Set(TEMPLATES.map((t) => t.prompt(item))).size).toBe(TEMPLATES.length);
    expect(TEMPLATES.map((t) => workedExample(t, item))).toEqual(['Question: Who guards the house?\nAnswer: the dog\n\n', 'Q: Who guards the house?\nA: the dog\n\n', 'Who guards the house?\nA. the dog\nB. milk\nAnswer: A\n\n', 'Who guards the house? the dog\n\n']);
  }, 120_000);

  it('eval --tasks DIR runs every task file (ours, lm-eval-harness query/gold, ARC labels) into one JSON and one Markdown table', () => {
    const ck = join(dir, 'run', 'checkpoint');
    const suite = join(dir, 'suite');
    mkdirSync(suite, { recursive: true });
    const facts = readTasks(join(dir, 'tasks.jsonl'));
    writeFileSync(join(suite, 'facts.jsonl'), facts.map((t) => JSON.stringify(t)).join('\n'));
    writeFileSync(join(suite, 'facts-harness.jsonl'), facts.map((t) => JSON.stringify({ query: t.question, choices: t.choices, gold: t.answer })).join('\n'));
    writeFileSync(join(suite, 'facts-arc.jsonl'), facts.map((t) => JSON.stringify({ question: t.question, choices: { text: t.choices, label: t.choices.map((_, i) => String(i + 1)) }, answerKey: String(t.answer + 1) })).join('\n'));
    writeFileSync(join(suite, 'notes.txt'), 'not a task file\n');
    expect(readTasks(join(suite, 'facts-arc.jsonl'))).toEqual(facts);
    // A crawl holding the first three questions; the report covers all three files (each a suite named by its file).
    mkdirSync(join(dir, 'suite-crawl'), { recursive: true });
    writeFileSync(join(dir, 'suite-crawl', 'pages.jsonl'), FACTS.slice(0, 3).map(([q], i) => JSON.stringify({ id: `p${i}`, text: `A page. ${q} More text.` })).join('\n'));
    cliOk(['import', join(dir, 'suite-crawl'), '-o', join(dir, 'suite-crawl-docs'), '--progress', 'off']);
    const report = join(dir, 'suite-contamination.json');
    cliOk(['decontaminate', 'report', join(dir, 'suite-crawl-docs'), '-o', report, '--against', ['facts', 'facts-harness', 'facts-arc'].map((f) => join(suite, `${f}.jsonl`)).join(','), '--progress', 'off']);
    const out = join(dir, 'results');
    const r = cliOk(['eval', '--checkpoint', ck, '--tasks', suite, '--templates', '2', '--contamination', report, '-o', out]);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SuiteResult;
    expect(json.tasks.map((t) => t.task)).toEqual(['facts-arc', 'facts-harness', 'facts']);
    expect(json).toMatchObject({ refinery: 'eval', checkpoint: ck, shots: 0, seed: 1, templates: ['question-answer', 'q-a'], contamination: report });
    for (const t of json.tasks) {
      expect(t.tasks).toBe(6);
      expect(t.templates).toHaveLength(2);
      expect(t.contamination?.contaminated_ids).toHaveLength(3);
    }
    // The same items scored the same way, whatever the file's format.
    expect(json.tasks[0].templates).toEqual(json.tasks[2].templates);
    expect(json.tasks[1].templates).toEqual(json.tasks[2].templates);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(r.stdout.trim()).toBe(suiteTable(json));
    expect(md).toContain(suiteTable(json));
    const rows = md.split('\n').filter((l) => l.startsWith('| facts'));
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/^\| facts \| 6 \| 0 \| \d\.\d{3} \| \[\d\.\d{3}, \d\.\d{3}\] \| \d\.\d{3} \|/);
    // Comma-separated files work too, and --json prints the suite.
    const printed = JSON.parse(cliOk(['eval', '--checkpoint', ck, '--tasks', `${join(suite, 'facts.jsonl')},${join(suite, 'facts-arc.jsonl')}`, '--templates', '2', '--json']).stdout) as { suite: SuiteResult };
    expect(printed.suite.tasks.map((t) => t.templates)).toEqual([json.tasks[2].templates, json.tasks[0].templates]);
    // A rerun replaces its own results; a file it did not write is refused and left as it was.
    cliOk(['eval', '--checkpoint', ck, '--tasks', suite, '-o', out]);
    expect((JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SuiteResult).templates).toEqual(['question-answer']);
    writeFileSync(join(out, 'results.md'), '# my notes\n');
    const refused = cli(['eval', '--checkpoint', ck, '--tasks', suite, '-o', out]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/results\.md holds a file that is not the results of refinery eval; choose another path/);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toBe('# my notes\n');
    expect(cli(['eval', '--checkpoint', ck, '--tasks', suite, '-o', join(suite, 'facts.jsonl')]).code).toBe(2);
    expect(cli(['eval', '--checkpoint', ck, '--tasks', join(dir, 'corpus')]).code).toBe(2); // no task files in it
  }, 180_000);

  it('eval --shots 5: the bootstrap interval narrows as the bundled Brown-genres task grows (n = 50, 100, 200, 400)', () => {
    const sizes = join(dir, 'sizes');
    for (const n of [50, 100, 200, 400]) cliOk(['sample-tasks', '--task', 'brown-genres', '--size', String(n), '-o', join(sizes, `brown-${String(n).padStart(3, '0')}.jsonl`)]);
    const all = readTasks(join(sizes, 'brown-400.jsonl'));
    expect(readTasks(join(sizes, 'brown-050.jsonl'))).toEqual(all.slice(0, 50)); // nested samples of one seeded order
    expect(new Set(all.map((t) => t.choices[t.answer])).size).toBe(15);
    const json = JSON.parse(cliOk(['eval', '--checkpoint', join(dir, 'run', 'checkpoint'), '--tasks', sizes, '--shots', '5', '--json']).stdout) as { suite: SuiteResult };
    const rows = json.suite.tasks;
    expect(rows.map((t) => t.tasks + t.dev)).toEqual([50, 100, 200, 400]);
    const widths = rows.map((t) => t.acc_ci_width);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThan(widths[i - 1]);
    // Roughly 1/sqrt(n): 8 times the items, about 2.8 times narrower.
    expect(widths[0] / widths[3]).toBeGreaterThan(1.8);
    expect(widths[0] / widths[3]).toBeLessThan(4.5);
  }, 180_000);

  it('refinery perplexity annotates quality_ppl: lower for text like the training data', async () => {
    mkdirSync(join(dir, 'mixed'), { recursive: true });
    const r = new Random(3);
    const words = 'Question What does the cat sit on colour sky blue dog milk river Answer'.split(' ');
    const docs = [
      ...FACTS.map(([q, a], i) => ({ id: `good-${i}`, text: `Question: ${q}\nAnswer: ${a}` })),
      ...FACTS.map((_, i) => ({ id: `bad-${i}`, text: Array.from({ length: 12 }, () => words[r.int(0, words.length - 1)]).join(' ') })),
    ];
    writeFileSync(join(dir, 'mixed', 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n'));
    cliOk(['import', join(dir, 'mixed'), '-o', join(dir, 'mixed-docs'), '--progress', 'off']);
    cliOk(['perplexity', join(dir, 'mixed-docs'), '-o', join(dir, 'ppl'), '--checkpoint', join(dir, 'run', 'checkpoint'), '--progress', 'off']);
    const scored = await readDocs(join(dir, 'ppl'));
    const mean = (prefix: string) => {
      const xs = scored.filter((d) => d.id.startsWith(prefix)).map((d) => Number(d.quality_ppl));
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(scored).toHaveLength(12);
    expect(mean('good')).toBeLessThan(mean('bad') / 2);
  }, 120_000);
});
