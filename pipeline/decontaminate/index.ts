/**
 * Benchmark decontamination (GPT-3's recipe, Brown et al. 2020, appendix C): find the
 * documents that contain evaluation items — any n consecutive normalised words (n = 13) shared
 * with an item, or an item's whole text when it is shorter — and exclude them, cut the matches
 * out with a window of characters each side (excluding the document when too much is cut), or
 * only annotate them.
 *
 *   decontaminate         index (reduce: the suites' n-grams; the Bloom filter's counters)
 *                         -> filter (map: one task per input shard)
 *   decontaminate-report  count (map: per task, how many documents contain each item)
 *                         -> report (final reduce: sums them into the report file)
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { pad, writeFileAtomic } from '../core/layout.js';
import { jsonWith, refuseForeignFile } from '../core/owned-files.js';
import { mapPhase, type Operation } from '../core/plan.js';
import type { Doc } from '../core/schema.js';
import { defineStage, drop, needsText, type Sink, type SinkOptions } from '../core/stage.js';
import { NgramIndex, splitWords, type Match } from './ngrams.js';
import { readSuites, type Suites } from './tasks.js';

const against = z.array(z.string().min(1)).min(1).describe('evaluation sets: MC JSONL, lm-eval-harness JSONL (question/choices/answer, query/gold) or text, one item per line (repeat the flag or separate with commas)').meta({ value: 'tasks' });
const n = z.number().int().min(1).max(64).default(13).describe('n-gram length in words, after lower-casing and removing punctuation (GPT-3: 13); items shorter than n match by their whole text');

export const deconOptions = z
  .object({
    against,
    n,
    index: z.enum(['exact', 'bloom']).default('exact').describe('exact: n-gram hashes in memory, with the items they belong to; bloom: a Bloom filter (fixed memory, for large suites; the false-positive bound is printed, and matches name suites, not items)'),
    bloom_size: byteSize().prefault('64MiB').describe('bloom: counters (one byte each)'),
    bloom_hashes: z.number().int().min(1).max(16).default(8).describe('bloom: hash functions'),
    action: z.enum(['exclude', 'remove-spans', 'annotate']).default('exclude').describe('exclude contaminated documents; remove-spans: cut each match plus --window characters each side (GPT-3); annotate: only add decon_matches and decon_tasks'),
    window: z.number().int().min(0).default(200).describe('remove-spans: characters removed each side of a match (GPT-3: 200)'),
    max_cut: z.number().min(0).max(1).default(0.5).describe('remove-spans: exclude the document when more than this share of its characters would be cut'),
    max_pieces: z.number().int().min(1).default(10).describe('remove-spans: exclude the document when the cuts would leave it in more than this many pieces (GPT-3: 10)'),
  })
  .strict();
export type DeconConfig = z.infer<typeof deconOptions>;

const paths = {
  index: (work: string) => join(work, 'index'),
  bloom: (work: string) => join(work, 'index', 'bloom.bin'),
};

/** The suites, read once per process (every task of a worker uses the same). */
let cached: { key: string; suites: Suites; index: NgramIndex } | null = null;

function openIndex(c: Pick<DeconConfig, 'against' | 'n' | 'index' | 'bloom_size' | 'bloom_hashes'>, counters?: () => Uint8Array): { suites: Suites; index: NgramIndex } {
  const key = JSON.stringify([c.against, c.n, c.index, c.bloom_size, c.bloom_hashes]);
  if (cached?.key === key) return cached;
  const suites = readSuites(c.against);
  const index = new NgramIndex(suites.suites, suites.items, { n: c.n, index: c.index, bloomSize: c.bloom_size, bloomHashes: c.bloom_hashes }, c.index === 'bloom' ? counters?.() : undefined);
  cached = { key, suites, index };
  return cached;
}

const LISTED = 20;

/** Which items (exact) or suites (bloom) the matches name, for the exclusion reason. */
function matchedIds(index: NgramIndex, matches: readonly Match[]): string {
  const ids = new Set<string>();
  for (const m of matches) for (const x of m.items ?? m.suites) ids.add(m.items ? index.items[x].id : (index.suites[x] as string));
  const all = [...ids];
  return all.slice(0, LISTED).join(', ') + (all.length > LISTED ? ` (+${all.length - LISTED} more)` : '');
}

/** The text with [start - window, end + window) of every match cut out; the pieces left (not blank) are joined by newlines. */
export function removeSpans(text: string, matches: readonly Match[], window: number): { text: string; cut: number; pieces: number } {
  const spans = matches.map((m) => [Math.max(0, m.start - window), Math.min(text.length, m.end + window)] as [number, number]).sort((a, b) => a[0] - b[0]);
  const pieces: string[] = [];
  let at = 0;
  let cut = 0;
  for (const [s, e] of spans) {
    if (e <= at) continue;
    if (s > at) pieces.push(text.slice(at, s));
    cut += e - Math.max(s, at);
    at = e;
  }
  if (at < text.length) pieces.push(text.slice(at));
  const kept = pieces.filter((p) => p.trim());
  return { text: kept.join('\n'), cut, pieces: kept.length };
}

const filterOptions = deconOptions.extend({ work: z.string().min(1), digest: z.string() }).strict();

export const deconStage = defineStage({
  name: 'decontaminate',
  internal: true,
  summary: 'decontaminate: find, cut or exclude evaluation items in documents',
  needs: needsText,
  options: filterOptions,
  steps(c) {
    const { suites, index } = openIndex(c, () => new Uint8Array(readFileSync(paths.bloom(c.work))));
    if (suites.digest !== c.digest) throw new UserError(`decontaminate: the files of --against changed since the index was built; run again with --overwrite`);
    return [
      {
        name: 'decontaminate',
        kind: c.action === 'remove-spans' ? 'transform' : c.action === 'exclude' ? 'filter' : 'annotate',
        adds: [
          { name: 'decon_matches', type: 'int32' },
          { name: 'decon_tasks', type: 'string' },
          ...(c.action === 'remove-spans' ? [{ name: 'decon_chars_removed', type: 'int32' } as const] : []),
        ],
        apply(doc: Doc) {
          const text = typeof doc.text === 'string' ? doc.text : '';
          const matches = index.matches(splitWords(text));
          doc.decon_matches = matches.length;
          doc.decon_tasks = matches.length ? [...new Set(matches.flatMap((m) => m.suites))].sort((a, b) => a - b).map((s) => suites.suites[s]).join(',') : null;
          if (c.action === 'remove-spans') doc.decon_chars_removed = 0;
          if (!matches.length || c.action === 'annotate') return undefined;
          if (c.action === 'exclude') return drop('contaminated', `${matches.length} matching ${c.n}-grams of ${matchedIds(index, matches)}`);
          const cut = removeSpans(text, matches, c.window);
          if (cut.cut > c.max_cut * text.length || !cut.text) {
            return drop('contaminated', `cutting ${cut.cut} of ${text.length} characters (over --max-cut ${c.max_cut}) for ${matchedIds(index, matches)}`);
          }
          // GPT-3 dropped a document the cuts split into more than 10 pieces: what is left is fragments.
          if (cut.pieces > c.max_pieces) return drop('contaminated-split', `the cuts would leave ${cut.pieces} pieces (over --max-pieces ${c.max_pieces}) for ${matchedIds(index, matches)}`);
          doc.text = cut.text;
          doc.decon_chars_removed = cut.cut;
          return undefined;
        },
      },
    ];
  },
});

export const decontaminateOperation: Operation = {
  name: 'decontaminate',
  summary: 'remove evaluation-set items (13-gram overlaps, GPT-3 style) from documents',
  description:
    'Index the n-grams of the evaluation sets given with --against (exactly, or in a Bloom filter with --index bloom), then ' +
    'mark every document with decon_matches (matching n-gram windows) and decon_tasks (the suites they come from), and ' +
    'exclude it (--action exclude), cut each match plus --window characters each side out of it, excluding it when more ' +
    'than --max-cut of it would go or the cuts would leave more than --max-pieces pieces (remove-spans, as GPT-3 did), or only annotate it. Exclusions name the matched items ' +
    '(suite:line; with --index bloom, the suites). Text is compared lower-cased with punctuation removed. ' +
    '"decontaminate report" counts, per item, the documents that contain it. Phases: index (reduce) -> filter (map).',
  options: deconOptions,
  phases(config, ctx) {
    const c = config as DeconConfig;
    return [
      {
        kind: 'reduce',
        name: 'index',
        dir: paths.index(ctx.work),
        run(log) {
          cached = null;
          const { suites, index } = openIndex(c);
          const stats: Record<string, unknown> = { suites: suites.suites, items: suites.items.length, ngrams: index.ngrams, lengths: index.lengths, digest: suites.digest };
          let bound = 'exact';
          if (index.bloom) {
            writeFileAtomic(paths.bloom(ctx.work), index.bloom.counters);
            const fpr = index.bloom.falsePositiveBound();
            Object.assign(stats, { counters: index.bloom.counters.length, hashes: c.bloom_hashes, false_positive_rate_bound: fpr });
            bound = `Bloom filter of ${index.bloom.counters.length} counters, ${c.bloom_hashes} hashes: false-positive rate <= ${fpr.toExponential(2)} per n-gram lookup (<= ${Math.min(1, fpr * 1000 * index.lengths.length * suites.suites.length).toExponential(2)} for a 1,000-word document)`;
          }
          log(`decontaminate: ${suites.items.length} items of ${suites.suites.length} suites (${suites.suites.join(', ')}): ${index.ngrams} ${c.n}-grams, window lengths ${index.lengths.join(',')}; ${bound}`);
          return stats;
        },
      },
      mapPhase('filter', deconStage, () => ({ ...c, work: ctx.work, digest: ctx.result<{ digest: string }>('index').digest }), ctx.inputs, ctx.out),
    ];
  },
};

/* ---------------------------------------------------------------- the report */

export const reportOptions = z.object({ against, n }).strict();
export type ReportConfig = z.infer<typeof reportOptions>;

interface TaskCounts {
  documents: number;
  /** [item index, documents containing it] for every item found. */
  items: [number, number][];
}

/** Per task: how many of its documents contain each item (share at least one n-gram with it). */
class CountSink implements Sink {
  rows = 0;
  private readonly counts = new Map<number, number>();
  private readonly index: NgramIndex;

  constructor(
    private readonly opts: SinkOptions,
    c: ReportConfig,
  ) {
    this.index = openIndex({ ...c, index: 'exact', bloom_size: 0, bloom_hashes: 1 }).index;
  }

  write(doc: Doc): void {
    this.rows++;
    const items = new Set<number>();
    for (const m of this.index.matches(splitWords(typeof doc.text === 'string' ? doc.text : ''))) for (const x of m.items ?? []) items.add(x);
    for (const x of items) this.counts.set(x, (this.counts.get(x) ?? 0) + 1);
  }

  publish(): string[] {
    const file = join(this.opts.dir, `counts-${pad(this.opts.task)}.json`);
    const out: TaskCounts = { documents: this.rows, items: [...this.counts].sort((a, b) => a[0] - b[0]) };
    writeFileAtomic(file, JSON.stringify(out));
    return [file];
  }

  abort(): void {}
}

export const countStage = defineStage({
  name: 'decontaminate-count',
  internal: true,
  summary: 'decontamination report, step 1: documents containing each item, per task',
  needs: needsText,
  options: reportOptions,
  sink: (c) => (opts) => new CountSink(opts, c),
});

export interface ContaminationReport {
  n: number;
  documents: number;
  suites: { name: string; items: number; contaminated: number; share: number }[];
  /** Every item: its id (suite:k, as refinery eval numbers a suite's items), and the documents that contain it. */
  items: { id: string; suite: string; documents: number; text: string }[];
}

export function buildReport(dir: string, c: ReportConfig): ContaminationReport {
  const { suites, items } = readSuites(c.against);
  const counts = new Float64Array(items.length);
  let documents = 0;
  for (const name of existsSync(dir) ? readdirSync(dir).filter((f) => /^counts-\d+\.json$/.test(f)) : []) {
    const t = JSON.parse(readFileSync(join(dir, name), 'utf8')) as TaskCounts;
    documents += t.documents;
    for (const [x, k] of t.items) counts[x] += k;
  }
  return {
    n: c.n,
    documents,
    suites: suites.map((name, s) => {
      const mine = items.map((it, x) => [it, x] as const).filter(([it]) => it.suite === s);
      const contaminated = mine.filter(([, x]) => counts[x] > 0).length;
      return { name, items: mine.length, contaminated, share: mine.length ? contaminated / mine.length : 0 };
    }),
    items: items.map((it, x) => ({ id: it.id, suite: suites[it.suite] as string, documents: counts[x], text: it.text.length > 200 ? `${it.text.slice(0, 200)}…` : it.text })),
  };
}

export const reportOperation: Operation = {
  name: 'decontaminate-report',
  summary: 'per evaluation item, how many documents contain it (a contamination report for eval --contamination)',
  description:
    'Count, for every item of the --against suites, the documents of the inputs that share at least one n-gram with it ' +
    '(or its whole text, when shorter than n words), and write the report (JSON) to -o: per suite the share of items ' +
    'found, per item its id (suite:k) and document count. "refinery eval --contamination REPORT" scores the clean and ' +
    'contaminated items separately. Phases: count (map) -> report (reduce).',
  options: reportOptions,
  phases(config, ctx) {
    const c = config as ReportConfig;
    // -o is a file a rerun replaces: never a directory, an input or a file that is not an earlier report.
    refuseForeignFile(ctx.out, [...ctx.inputs, ...c.against], {
      given: `decontaminate report: -o ${ctx.out}`,
      what: 'a contamination report',
      ours: jsonWith((r) => Array.isArray(r.items) && Array.isArray(r.suites)),
    });
    return [
      mapPhase('count', countStage, c, ctx.inputs, ctx.dir('count')),
      {
        kind: 'reduce',
        name: 'report',
        final: true,
        run(log) {
          const report = buildReport(ctx.dir('count'), c);
          writeFileAtomic(ctx.out, `${JSON.stringify(report, null, 1)}\n`);
          for (const s of report.suites) log(`decontaminate report: ${s.name}: ${s.contaminated} of ${s.items} items in at least one of ${report.documents} documents (${(100 * s.share).toFixed(1)}%)`);
          return { documents: report.documents, suites: report.suites };
        },
      },
    ];
  },
};
