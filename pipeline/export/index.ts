/**
 * `refinery export`: shards -> JSONL (optionally gzipped), one file per input shard, to
 * take results to other tools. The `metadata` column written by import is unfolded back
 * into top-level fields, so import -> export round-trips a corpus.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as z from 'zod';
import type { ColumnSpec, Doc } from '../core/schema.js';
import { defineStage, type Sink, type SinkOptions } from '../core/stage.js';

const options = z
  .object({
    format: z.enum(['jsonl', 'jsonl.gz']).default('jsonl.gz').describe('output format'),
    columns: z.array(z.string()).optional().describe('columns to write, comma-separated (default: all but html)'),
    unfold_metadata: z.boolean().default(true).describe('write the fields kept in `metadata` as top-level fields'),
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
  summary: 'document shards -> JSONL / JSONL.gz files',
  description: 'One output file per input shard: <out>/part-TTTTT-0000.jsonl[.gz]. Timestamps are written as ISO 8601.',
  options,
  sink: (config) => (opts) => new JsonlSink(opts, config),
});
