/**
 * `refinery export --format hf`: a Hugging Face dataset folder.
 *
 *   out/data/train-00000-of-00003.parquet ...       the hub's naming: one file per input shard
 *   out/data/validation-00000-of-00001.parquet       when an input is a validation split
 *   out/README.md                                    the dataset card: YAML header (configs with
 *                                                    data_files, license, language, size
 *                                                    categories), then how the data was made
 *
 * The map phases write Parquet files per task into the work directory (one phase per split);
 * this reduce, run once at the end, links them under their hub names (hard links; a copy
 * across filesystems) and writes the card from the run's own files: the per-task stats of the
 * export, and the manifests of the stages that made its inputs, followed back input by input
 * (the funnel, each stage's config and counts).
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { readManifest, type Manifest } from '../core/executor.js';
import { writeFileAtomic } from '../core/layout.js';
import { claimDir, legacyOutput, removeOwned } from '../core/owned-dirs.js';
import { formatBytes, formatCount } from '../core/progress.js';
import { readTaskStats, sumStats } from '../core/stats.js';
import { funnelOf, funnelTable } from '../inspect/funnel.js';

export type HfSplit = 'train' | 'validation';
export const HF_SPLITS: readonly HfSplit[] = ['train', 'validation'];

/** An input that is a validation split (select --holdout's <out>/validation, or a folder named val/valid/validation). */
export const isValidationInput = (input: string): boolean => /^(validation|valid|val)$/i.test(basename(input.replace(/\/+$/, '')));

export interface HfCardOptions {
  license: string;
  language?: readonly string[];
  name?: string;
}

export interface HfExport {
  files: Record<HfSplit, string[]>;
  documents: Record<HfSplit, number>;
  bytes: Record<HfSplit, number>;
  card: string;
}

/** The hub's size category for n examples. */
export function sizeCategory(n: number): string {
  const steps: [number, string][] = [
    [1e3, 'n<1K'],
    [1e4, '1K<n<10K'],
    [1e5, '10K<n<100K'],
    [1e6, '100K<n<1M'],
    [1e7, '1M<n<10M'],
    [1e8, '10M<n<100M'],
    [1e9, '100M<n<1B'],
    [1e10, '1B<n<10B'],
    [1e11, '10B<n<100B'],
    [1e12, '100B<n<1T'],
  ];
  return steps.find(([limit]) => n < limit)?.[1] ?? 'n>1T';
}

/**
 * The stage outputs that made `inputs`, oldest first: each output's manifest names its
 * inputs, whose folders hold the manifests of the stages before. Stops where there is no
 * manifest (raw WARC or JSONL files).
 */
export function lineage(inputs: readonly string[]): { dir: string; manifest: Manifest }[] {
  const seen = new Set<string>();
  const order: { dir: string; manifest: Manifest }[] = [];
  const visit = (path: string, depth: number) => {
    if (depth > 64) return;
    let dir = path;
    try {
      if (!statSync(path).isDirectory()) dir = dirname(path);
    } catch {
      return;
    }
    const key = resolve(dir);
    if (seen.has(key)) return;
    seen.add(key);
    const manifest = readManifest(dir);
    if (!manifest) return;
    for (const input of manifest.inputs) visit(input, depth + 1);
    // Manifests name inputs by absolute path: the card shows them from the working directory.
    const shown = relative(process.cwd(), key);
    order.push({ dir: shown && !shown.startsWith('..') ? shown : key, manifest });
  };
  for (const input of inputs) visit(input, 0);
  return order;
}

const jsonBlock = (value: unknown) => `\`\`\`json\n${JSON.stringify(value, null, 1)}\n\`\`\``;

/** Link (or copy) the split's Parquet files under the hub's names; returns their paths relative to out. */
function placeSplit(from: string, out: string, split: HfSplit): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(from).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  return names.map((name, i) => {
    const rel = join('data', `${split}-${String(i).padStart(5, '0')}-of-${String(names.length).padStart(5, '0')}.parquet`);
    const target = join(out, rel);
    try {
      linkSync(join(from, name), target);
    } catch {
      copyFileSync(join(from, name), target);
    }
    return rel;
  });
}

/** Lay out the dataset folder and write its card. `splitDirs` are the map phases' outputs. */
export function writeHfDataset(out: string, splitDirs: Partial<Record<HfSplit, string>>, inputs: Record<HfSplit, readonly string[]>, o: HfCardOptions): HfExport {
  claimDir(out, 'output', 'export', legacyOutput);
  const data = join(out, 'data');
  if (existsSync(data)) removeOwned(data, [...inputs.train, ...inputs.validation]);
  mkdirSync(data, { recursive: true });
  const files: Record<HfSplit, string[]> = { train: [], validation: [] };
  const documents: Record<HfSplit, number> = { train: 0, validation: 0 };
  const bytes: Record<HfSplit, number> = { train: 0, validation: 0 };
  const langs: Record<string, number> = {};
  let columns: string[] = [];
  for (const split of HF_SPLITS) {
    const dir = splitDirs[split];
    if (!dir) continue;
    files[split] = placeSplit(dir, out, split);
    const totals = sumStats(readTaskStats(dir));
    documents[split] = totals.docs_kept;
    bytes[split] = totals.bytes_kept;
    for (const [k, n] of Object.entries(totals.counters)) if (k.startsWith('lang:')) langs[k.slice(5)] = (langs[k.slice(5)] ?? 0) + n;
    const m = readManifest(dir);
    if (m && columns.length === 0) columns = (m.config as { columns?: string[] }).columns ?? [];
  }
  const total = documents.train + documents.validation;
  // Languages with at least 1% of the documents, most frequent first; ISO 639 codes only.
  const language = o.language ?? Object.entries(langs).filter(([l, n]) => /^[a-z]{2,3}$/.test(l) && n >= total / 100).sort((a, b) => b[1] - a[1]).map(([l]) => l);
  const splits = HF_SPLITS.filter((s) => files[s].length > 0);
  const header: Record<string, unknown> = {
    configs: [{ config_name: 'default', data_files: splits.map((s) => ({ split: s, path: `data/${s}-*` })) }],
    license: o.license,
    ...(language.length > 0 ? { language } : {}),
    size_categories: [sizeCategory(total)],
    task_categories: ['text-generation'],
    ...(o.name ? { pretty_name: o.name } : {}),
    tags: ['refinery', 'pretraining'],
  };
  const title = o.name ?? basename(resolve(out));
  const card: string[] = ['---', stringify(header).trimEnd(), '---', '', `# ${title}`, ''];
  card.push(
    `Text documents for language-model pretraining, made by refinery: ${formatCount(total)} documents, ${formatBytes(bytes.train + bytes.validation)} of text, in zstd Parquet.`,
    '',
    '| split | documents | bytes of text | files |',
    '|---|---|---|---|',
    ...splits.map((s) => `| ${s} | ${documents[s].toLocaleString('en')} | ${bytes[s].toLocaleString('en')} | ${files[s].length} |`),
    '',
    '## Loading',
    '',
    '```python',
    'from datasets import load_dataset',
    `ds = load_dataset("${out.replace(/\/+$/, '')}")  # this folder; load_dataset("<user>/<name>") once uploaded`,
    '```',
    '',
  );
  if (Object.keys(langs).length > 0) {
    card.push('## Languages', '', '| lang | documents |', '|---|---|', ...Object.entries(langs).sort((a, b) => b[1] - a[1]).slice(0, 20).map(([l, n]) => `| ${l} | ${n.toLocaleString('en')} |`), '');
  }
  const made = lineage([...inputs.train, ...inputs.validation]);
  if (made.length > 0) {
    card.push('## How it was made', '', 'Every stage that made this data, oldest first: documents and bytes in, kept and excluded by each filter, with its reasons (from the stages\' own per-task stats).', '');
    card.push('```', funnelTable(funnelOf(made.map((m) => m.dir))), '```', '');
    card.push('### Stage configs', '');
    for (const { dir, manifest } of made) {
      const t = manifest.totals;
      card.push(`**${manifest.stage}** (\`${dir}\`, config ${manifest.config_hash}): ${t.docs_in.toLocaleString('en')} documents in, ${t.docs_kept.toLocaleString('en')} kept, ${t.docs_excluded.toLocaleString('en')} excluded.`, '', jsonBlock(manifest.config), '');
    }
  }
  card.push('## Columns', '', columns.length > 0 ? columns.map((c) => `\`${c}\``).join(', ') : 'Those of the input shards but `html`: `id`, `url`, `text`, `lang`, ... and the columns the stages added (scores, labels).', '');
  const text = `${card.join('\n')}\n`;
  writeFileAtomic(join(out, 'README.md'), text);
  return { files, documents, bytes, card: join(out, 'README.md') };
}
