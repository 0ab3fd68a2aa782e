/**
 * `refinery eval --tasks a.jsonl,b.jsonl,DIR`: every multiple-choice task of the list (a
 * directory gives its *.jsonl and *.json files) scored with the same shots, seed and templates,
 * as lm-evaluation-harness runs `--tasks a,b`; one JSON of results and one Markdown table for all
 * tasks (`-o DIR`: DIR/results.json, DIR/results.md).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../pipeline/core/errors.js';
import { writeFileAtomic } from '../pipeline/core/layout.js';
import { jsonWith, refuseForeignFile } from '../pipeline/core/owned-files.js';
import { contaminationSplit, devSplit, multipleChoice, readTasks, taskName, type ContaminationSplit, type McResult, type Scorer } from './evaluate.js';
import type { Template } from './templates.js';

export interface TaskOptions {
  shots: number;
  seed: number;
  templates: readonly Template[];
  /** Worked examples from this file instead of a dev split of the task (one task only). */
  dev?: string;
  /** A `decontaminate report` made against the task files: clean and contaminated items scored apart. */
  contamination?: string;
}

export interface TaskResult extends McResult {
  /** The task's name: its file name without extension (as decontaminate names a suite). */
  task: string;
  file: string;
  /** Items held out as worked examples (never scored). */
  dev: number;
  seed: number;
  contamination?: ContaminationSplit;
}

export interface SuiteResult {
  /** Marks the file as refinery's, so a rerun may replace it. */
  refinery: 'eval';
  checkpoint: string;
  shots: number;
  seed: number;
  templates: string[];
  contamination: string | null;
  tasks: TaskResult[];
}

const TASK_FILE = /\.jsonl?$/i;

/** The task files of `--tasks`: files as given, directories as their *.jsonl / *.json files (sorted). */
export function taskFiles(paths: readonly string[]): string[] {
  const files = paths.flatMap((p) => {
    if (!existsSync(p)) throw new UserError(`--tasks ${p}: no such file or directory`);
    if (!statSync(p).isDirectory()) return [p];
    const inside = readdirSync(p).filter((f) => TASK_FILE.test(f) && !f.startsWith('.') && !f.startsWith('_')).sort();
    if (!inside.length) throw new UserError(`--tasks ${p}: the directory holds no .jsonl or .json task files`);
    return inside.map((f) => join(p, f));
  });
  const names = files.map(taskName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UserError(`--tasks: two task files are named "${twice}"; a task is known by its file name`);
  return files;
}

/** One task: its dev split (or --dev), the scored items under every template, and the contamination split. */
export function evaluateTask(s: Scorer, file: string, o: TaskOptions): TaskResult {
  const tasks = readTasks(file);
  const { dev, test } = o.dev ? { dev: readTasks(o.dev), test: tasks } : devSplit(tasks, o.shots, o.seed);
  const mc = { shots: o.shots, dev, seed: o.seed, templates: o.templates };
  const result: TaskResult = { task: taskName(file), file, ...multipleChoice(s, test, mc), dev: o.dev ? 0 : dev.length, seed: o.seed };
  if (o.contamination) result.contamination = contaminationSplit(s, tasks, file, o.contamination, mc, new Set(test));
  return result;
}

export function evaluateSuite(s: Scorer, files: readonly string[], checkpoint: string, o: TaskOptions, progress?: (line: string) => void): SuiteResult {
  if (o.dev && files.length > 1) throw new UserError('refinery eval: --dev gives one task its worked examples; with several --tasks each draws them from its own dev split');
  const tasks = files.map((file, i) => {
    const r = evaluateTask(s, file, o);
    progress?.(`eval: [${i + 1}/${files.length}] ${r.task}: ${r.tasks} items, acc ${r.acc.toFixed(3)} ±${(r.acc_ci_width / 2).toFixed(3)}`);
    return r;
  });
  return { refinery: 'eval', checkpoint, shots: o.shots, seed: o.seed, templates: o.templates.map((t) => t.name), contamination: o.contamination ?? null, tasks };
}

const f3 = (x: number) => x.toFixed(3);
const ci = (c: readonly [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;

/** One Markdown table: a row per task, each template's accuracy and their mean with its interval. */
export function suiteTable(r: SuiteResult): string {
  const many = r.templates.length > 1;
  const head = ['task', 'n', 'shots', `acc${many ? ` (mean of ${r.templates.length} templates)` : ''}`, '95% CI', 'CI width', 'acc_norm', 'chance'];
  if (many) head.push(...r.templates.map((t) => `acc: ${t}`));
  if (r.contamination) head.push('acc clean (n)', 'acc contaminated (n)');
  const rows = r.tasks.map((t) => {
    const cells = [t.task, String(t.tasks), String(t.shots), f3(t.acc), ci(t.acc_ci), f3(t.acc_ci_width), `${f3(t.acc_norm)} ${ci(t.acc_norm_ci)}`, f3(t.chance)];
    if (many) cells.push(...t.templates.map((x) => `${f3(x.acc)} ${ci(x.acc_ci)}`));
    const c = t.contamination;
    if (c) cells.push(...[c.clean, c.contaminated].map((x) => (x.tasks ? `${f3(x.acc)} ${ci(x.acc_ci)} (${x.tasks})` : `- (0)`)));
    else if (r.contamination) cells.push('', '');
    return cells;
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const MD_MARK = '<!-- refinery eval results -->';

/** The Markdown file: a marker (so a rerun knows the file is its own), what was run, the table. */
export function suiteMarkdown(r: SuiteResult): string {
  const how = `Checkpoint \`${r.checkpoint}\`, ${r.shots}-shot (seed ${r.seed}), templates: ${r.templates.join(', ')}; 95% percentile bootstrap intervals (1,000 resamples of the scored items).`;
  return `${MD_MARK}\n# refinery eval\n\n${how}\n\n${suiteTable(r)}\n`;
}

/** Write DIR/results.json and DIR/results.md, refusing to replace files an earlier eval did not write. */
export function writeSuite(r: SuiteResult, dir: string, reads: readonly string[]): { json: string; md: string } {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`refinery eval: -o ${dir} is a file; give a directory for results.json and results.md`);
  const json = join(dir, 'results.json');
  const md = join(dir, 'results.md');
  refuseForeignFile(json, reads, { given: `refinery eval: -o ${dir}: ${json}`, what: 'the results of refinery eval', ours: jsonWith((v) => v.refinery === 'eval' && Array.isArray(v.tasks)) });
  refuseForeignFile(md, reads, { given: `refinery eval: -o ${dir}: ${md}`, what: 'the results of refinery eval', ours: (text) => text.startsWith(MD_MARK) });
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(json, `${JSON.stringify(r, null, 1)}\n`);
  writeFileAtomic(md, suiteMarkdown(r));
  return { json, md };
}
