/**
 * `refinery export`: shards -> files for other tools, one file per input shard.
 *
 *   --format jsonl | jsonl.gz   JSON lines; the `metadata` column written by import is unfolded
 *                               back into top-level fields, so import -> export round-trips a corpus
 *   --format parquet            zstd Parquet (parquet.ts), row groups of --row-group-rows rows or
 *                               --row-group-size bytes
 *   --format hf                 a Hugging Face dataset folder (hf.ts): the same Parquet files
 *                               under data/{train,validation}-0000i-of-0000n.parquet and a card
 *
 * jsonl and parquet are one map phase into the output; hf is a map phase per split into the
 * work directory, then a reduce that lays out the folder and writes the card.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { mapPhase, type Operation, type Phase } from '../core/plan.js';
import type { ColumnSpec, Doc } from '../core/schema.js';
import { defineStage, type Sink, type SinkOptions } from '../core/stage.js';
import { HF_SPLITS, isValidationInput, writeHfDataset, type HfSplit } from './hf.js';
import { ParquetSink, loadZstd } from './parquet.js';

const options = z
  .object({
    format: z
      .enum(['jsonl', 'jsonl.gz', 'parquet', 'hf'])
      .default('jsonl.gz')
      .describe('jsonl, jsonl.gz, parquet (zstd), or hf: a Hugging Face dataset folder (data/*.parquet and a README.md dataset card)'),
    columns: z.array(z.string()).optional().describe('columns to write, comma-separated (default: all but html)'),
    unfold_metadata: z.boolean().default(true).describe('jsonl: write the fields kept in `metadata` as top-level fields'),
    row_group_rows: z.number().int().min(1).default(100_000).describe('parquet, hf: rows per row group (at most)'),
    row_group_size: byteSize().prefault('128MiB').describe('parquet, hf: size of the values buffered per row group (strings counted by length, other values as 8 bytes); whichever of the two limits comes first'),
    license: z.string().min(1).default('unknown').describe('hf: the license in the dataset card (a hub license id: cc-by-4.0, odc-by, other, ...)'),
    language: z.array(z.string().min(2)).optional().describe('hf: the languages in the dataset card, comma-separated (default: those of at least 1% of the documents, from the lang column)'),
    name: z.string().min(1).optional().describe("hf: the dataset's pretty name in the card (default: the output folder's name)"),
  })
  .strict();
type ExportConfig = z.infer<typeof options>;

const FLUSH_BYTES = 1 << 20;

/** Writes JSON lines under a temporary name; gzip output is a series of gzip members, one per flush. */
class JsonlSink implements Sink {
  rows = 0;
  private readonly tmp: string;
  private readonly final: string;
  private readonly fd: number;
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly keys: ColumnSpec[];

  constructor(opts: SinkOptions, private readonly config: ExportConfig) {
    const name = `${opts.base}-0000.${config.format}`;
    this.final = join(opts.dir, name);
    this.tmp = join(opts.dir, `.${name}.tmp`);
    this.fd = openSync(this.tmp, 'w');
    const wanted = config.columns;
    this.keys = opts.columns.filter((c) => (wanted ? wanted.includes(c.name) : c.name !== 'html'));
  }

  write(doc: Doc): void {
    const record: Record<string, unknown> = {};
    for (const { name, type } of this.keys) {
      const v = doc[name];
      if (name === 'metadata' && this.config.unfold_metadata) continue;
      record[name] = type === 'timestamp' && typeof v === 'number' ? new Date(v).toISOString() : (v ?? null);
    }
    if (this.config.unfold_metadata && typeof doc.metadata === 'string') {
      for (const [k, v] of Object.entries(JSON.parse(doc.metadata) as Record<string, unknown>)) {
        if (!(k in record)) record[k] = v;
      }
    }
    const line = `${JSON.stringify(record)}\n`;
    this.pending.push(line);
    this.pendingChars += line.length;
    this.rows++;
    if (this.pendingChars >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    writeSync(this.fd, this.config.format === 'jsonl.gz' ? gzipSync(bytes) : bytes);
    this.pending = [];
    this.pendingChars = 0;
  }

  publish(): string[] {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.final);
    return [this.final];
  }

  abort(): void {
    closeSync(this.fd);
    rmSync(this.tmp, { force: true });
  }
}

export const exportStage = defineStage({
  name: 'export',
  summary: 'document shards -> JSONL, Parquet, or a Hugging Face dataset folder',
  description:
    'One output file per input shard: <out>/part-TTTTT-0000.jsonl[.gz] (timestamps as ISO 8601) or .parquet (zstd, ' +
    'the shard\'s columns and file metadata carried over). --format hf writes <out>/data/train-0000i-of-0000n.parquet ' +
    '(and validation-... for inputs named validation/, as select --holdout writes them) and <out>/README.md, a dataset ' +
    'card with its YAML header and the funnel and stage configs of the run that made the data.',
  options,
  steps: async (config, _columns, _task, ctx) => {
    if (config.format === 'parquet' || config.format === 'hf') await loadZstd();
    if (config.format !== 'hf') return [];
    // Documents per language, for the dataset card's `language`.
    return [
      {
        name: 'languages',
        kind: 'annotate',
        apply(doc) {
          ctx.count(`lang:${typeof doc.lang === 'string' && doc.lang ? doc.lang : 'unknown'}`);
          return undefined;
        },
      },
    ];
  },
  sink: (config) => (opts) =>
    config.format === 'parquet' || config.format === 'hf'
      ? new ParquetSink(opts, { columns: config.columns, rowGroupRows: config.row_group_rows, rowGroupBytes: config.row_group_size })
      : new JsonlSink(opts, config),
});

const splitInputs = (inputs: readonly string[]): Record<HfSplit, string[]> => ({
  train: inputs.filter((i) => !isValidationInput(i)),
  validation: inputs.filter(isValidationInput),
});

export const exportOperation: Operation = {
  name: 'export',
  summary: exportStage.summary,
  description: `${exportStage.description ?? ''} Phases: export (map); with --format hf: train and validation (map, into the work directory) -> dataset (reduce).`,
  options,
  check(config, inputs) {
    const c = config as ExportConfig;
    if (c.format === 'hf' && splitInputs(inputs).train.length === 0) throw new UserError('export --format hf: every input is a validation split; give the training data too');
  },
  phases(config, ctx) {
    const c = config as ExportConfig;
    if (c.format !== 'hf') return [mapPhase('export', exportStage, c, ctx.inputs, ctx.out)];
    const inputs = splitInputs(ctx.inputs);
    const splits = HF_SPLITS.filter((s) => inputs[s].length > 0);
    const phases: Phase[] = splits.map((s) => mapPhase(s, exportStage, c, inputs[s], ctx.dir(s)));
    phases.push({
      kind: 'reduce',
      name: 'dataset',
      final: true,
      run(log) {
        const made = writeHfDataset(ctx.out, Object.fromEntries(splits.map((s) => [s, ctx.dir(s)])), inputs, { license: c.license, language: c.language, name: c.name });
        log(`export: ${splits.map((s) => `${s} ${made.documents[s]} documents in ${made.files[s].length} file(s)`).join(', ')}; dataset card ${made.card}`);
        return { files: made.files, documents: made.documents };
      },
    });
    return phases;
  },
};
