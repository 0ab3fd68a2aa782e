/**
 * The options of `refinery eval` and `refinery generate`, which use a trained checkpoint (kept apart
 * from evaluate.ts and generate.ts so the CLI can list them without loading TensorFlow.js).
 */
import * as z from 'zod';
import { TEMPLATES } from './templates.js';

const checkpoint = z.string().describe("a checkpoint directory (a run's out/checkpoint)").meta({ value: 'dir' });
const tokenizer = z.string().describe('the tokenizer (default: the one the training data was made with)').meta({ value: 'tokenizer.json' }).optional();

export const evalOptions = z
  .object({
    checkpoint,
    tasks: z
      .array(z.string().min(1))
      .optional()
      .describe('multiple-choice tasks, one question per line: {"question", "choices": [...], "answer": index or letter}, or lm-evaluation-harness\'s query/choices/gold; files or directories (their *.jsonl, *.json), comma-separated or repeated; several files, or a directory, give one results table')
      .meta({ value: 'files,dirs' }),
    data: z.array(z.string()).optional().describe('document shards (stage outputs) to measure perplexity and bits per byte on'),
    max_docs: z.number().int().min(1).default(1000).describe('at most this many documents of --data'),
    shots: z.number().int().min(0).default(0).describe('worked examples (question and answer) before each question, drawn with --seed from the dev split: --dev, else a held-out max(shots, 10%) of --tasks that is never scored'),
    dev: z.string().optional().describe('tasks to draw --shots examples from (same format as --tasks); none of them is scored').meta({ value: 'file.jsonl' }),
    seed: z.number().int().min(0).default(1).describe('seeds the dev split, the examples drawn for each question, and the bootstrap of the confidence intervals'),
    templates: z
      .string()
      .regex(/^(all|\d+|[a-z-]+(,[a-z-]+)*)$/, 'expected a count, "all", or template names separated by commas')
      .default('1')
      .describe(`prompt templates, each item scored under each and the accuracies averaged: a count of the first of ${TEMPLATES.map((t) => t.name).join(', ')}, "all", or names separated by commas`)
      .meta({ value: 'N|all|names' }),
    contamination: z.string().optional().describe('a report of "refinery decontaminate report" made --against the --tasks files: score its clean and contaminated items apart (as Llama 2 did)').meta({ value: 'report.json' }),
    tokenizer,
  })
  .strict();
export type EvalConfig = z.infer<typeof evalOptions>;

export const generateOptions = z
  .object({
    checkpoint,
    tokenizer,
    prompt: z.string().default('').describe('the text to continue (default: start of a document)').meta({ value: 'text' }),
    max_tokens: z.number().int().min(0).default(100).describe('tokens to generate'),
    temperature: z.number().min(0).default(0.8).describe('sampling temperature (0: greedy)').meta({ value: 't' }),
    top_k: z.number().int().min(0).default(40).describe('sample among the k most likely tokens (0: all)').meta({ value: 'k' }),
    seed: z.number().int().min(0).default(1).describe('sampling seed'),
  })
  .strict();
