/**
 * Evaluation suites in the forms people have them, one item per non-blank line:
 *   - our multiple-choice JSONL (`refinery eval --tasks`): {"question", "choices", "answer"};
 *   - lm-evaluation-harness-style JSONL: `question`/`choices`/`answer`, `query`/`gold`,
 *     or a `text`, `prompt`, `context`, `sentence` or `ctx` field;
 *   - plain text (any other file): each line is an item.
 * What is indexed is the item's prompt (the question, the query): the text a model would be
 * evaluated on, whatever its answer format. A suite is named by its file name without extension.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError, errorMessage } from '../core/errors.js';
import { hash64 } from '../core/hash.js';
import type { TaskItem } from './ngrams.js';

const PROMPT_FIELDS = ['question', 'query', 'text', 'prompt', 'context', 'sentence', 'ctx', 'goal'] as const;

export const suiteName = (file: string) => basename(file).replace(/\.(jsonl|json|txt|tsv)$/i, '');

/** The prompt of one JSONL record, or null when it has none. */
function promptOf(record: Record<string, unknown>): string | null {
  for (const f of PROMPT_FIELDS) if (typeof record[f] === 'string' && (record[f] as string).trim()) return record[f] as string;
  return null;
}

export interface Suites {
  suites: string[];
  items: TaskItem[];
  /** A digest of the files' contents, so an output made against other tasks is not resumed. */
  digest: string;
}

export function readSuites(files: readonly string[]): Suites {
  if (files.length === 0) throw new UserError('decontaminate: give the evaluation sets with --against');
  const suites: string[] = [];
  const items: TaskItem[] = [];
  const digests: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`${file}: cannot read (${errorMessage(err)})`);
    }
    digests.push(hash64(text).map((h) => (h >>> 0).toString(16)).join(''));
    let name = suiteName(file);
    for (let i = 2; suites.includes(name); i++) name = `${suiteName(file)}-${i}`;
    const suite = suites.push(name) - 1;
    const jsonl = /\.jsonl?$/i.test(file);
    let k = 0;
    text.split('\n').forEach((line, at) => {
      if (!line.trim()) return;
      k++;
      let prompt: string | null = line;
      if (jsonl) {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          throw new UserError(`${file}:${at + 1}: not JSON`);
        }
        prompt = typeof record === 'string' ? record : record && typeof record === 'object' ? promptOf(record as Record<string, unknown>) : null;
        if (prompt === null) throw new UserError(`${file}:${at + 1}: no prompt field (expected one of ${PROMPT_FIELDS.join(', ')})`);
      }
      items.push({ id: `${name}:${k}`, suite, text: prompt });
    });
  }
  return { suites, items, digest: digests.join('-') };
}
