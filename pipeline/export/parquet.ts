/**
 * Parquet files from documents, one per input shard, for the tools that prefer Parquet
 * (DuckDB, Spark, the Hugging Face hub). Written with hyparquet-writer (pure JavaScript,
 * synchronous, one row group at a time) and zstd pages (@bokuweb/zstd-wasm, level 3).
 *
 * Rows are buffered per column and written as one row group every `rowGroupRows` rows or
 * `rowGroupBytes` bytes of values, whichever comes first, so memory stays bounded by one row
 * group whatever the shard size. The column types map one to one (string -> STRING, int32 ->
 * INT32, int64 -> INT64, float32 -> FLOAT, float64 -> DOUBLE, bool -> BOOLEAN, timestamp ->
 * TIMESTAMP(MILLIS, UTC)); only `id` is REQUIRED. The input shard's file metadata
 * (refinery.schema_version, refinery.stage, ...) becomes the Parquet key-value metadata, with
 * the export's own under refinery.export.*.
 *
 * Why hyparquet-writer and not parquet-wasm (arrow-rs): both write files pyarrow, DuckDB and
 * polars read, at about the same speed on our shards, with hyparquet-writer a little smaller
 * and lighter on memory (README, "Parquet and Hugging Face datasets"); but parquet-wasm only
 * streams asynchronously, from Arrow IPC bytes, while a sink is fed synchronously one document
 * at a time: hyparquet-writer's ParquetWriter takes a row group when we have one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { compress, init } from '@bokuweb/zstd-wasm';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer/src/types.js';
import type { SchemaElement } from 'hyparquet';
import type { ColumnSpec, ColumnType, Doc } from '../core/schema.js';
import type { Sink, SinkOptions } from '../core/stage.js';

let zstdReady: Promise<void> | null = null;
/** Load the zstd WebAssembly module once per process (before the first sink is made). */
export const loadZstd = (): Promise<void> => (zstdReady ??= init());

const ZSTD_LEVEL = 3;

export interface ParquetSinkConfig {
  /** Columns to write (default: all but html). */
  columns?: readonly string[];
  rowGroupRows: number;
  rowGroupBytes: number;
}

const PARQUET_TYPE: Record<ColumnType, Pick<SchemaElement, 'type' | 'converted_type' | 'logical_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
  float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' },
  bool: { type: 'BOOLEAN' },
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
};

/** The Parquet schema of documents with these columns. */
export function parquetSchema(columns: readonly ColumnSpec[]): SchemaElement[] {
  return [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, ...PARQUET_TYPE[c.type], repetition_type: c.nullable === false ? ('REQUIRED' as const) : ('OPTIONAL' as const) })),
  ];
}

/** hyparquet-writer's byte writer, flushing to a file descriptor once a MiB is buffered (as its fileWriter does). */
class FdWriter extends ByteWriter {
  constructor(private readonly fd: number) {
    super(1 << 21);
  }
  private flushToFile(): void {
    let at = 0;
    while (at < this.index) at += writeSync(this.fd, new Uint8Array(this.buffer, at, this.index - at));
    this.index = 0;
  }
  override ensure(size: number): void {
    if (this.index > 1 << 20) this.flushToFile();
    super.ensure(size);
  }
  override finish(): void {
    this.flushToFile();
  }
}

/** Writes a task's kept documents to <dir>/<base>-0000.parquet (under a temporary name until published). */
export class ParquetSink implements Sink {
  rows = 0;
  private readonly columns: ColumnSpec[];
  private readonly values: unknown[][];
  private buffered = 0;
  private readonly tmp: string;
  private readonly final: string;
  private readonly fd: number;
  private readonly writer: ParquetWriter;

  constructor(
    opts: SinkOptions,
    private readonly config: ParquetSinkConfig,
  ) {
    const wanted = config.columns;
    this.columns = opts.columns.filter((c) => (wanted ? wanted.includes(c.name) : c.name !== 'html'));
    this.values = this.columns.map(() => []);
    const name = `${opts.base}-0000.parquet`;
    this.final = join(opts.dir, name);
    this.tmp = join(opts.dir, `.${name}.tmp`);
    this.fd = openSync(this.tmp, 'w');
    const kv = { ...opts.inputMetadata, ...Object.fromEntries(Object.entries(opts.metadata).map(([k, v]) => [k.replace(/^refinery\./, 'refinery.export.'), v])) };
    this.writer = new ParquetWriter({
      writer: new FdWriter(this.fd),
      schema: parquetSchema(this.columns),
      codec: 'ZSTD',
      compressors: { ZSTD: (bytes: Uint8Array) => compress(bytes, ZSTD_LEVEL) },
      kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
      createdBy: 'refinery (hyparquet-writer)',
    });
  }

  write(doc: Doc): void {
    const { columns, values } = this;
    for (let c = 0; c < columns.length; c++) {
      const v = doc[columns[c].name] ?? null;
      values[c].push(v);
      if (typeof v === 'string') this.buffered += v.length;
      else this.buffered += 8;
    }
    this.rows++;
    if (values[0].length >= this.config.rowGroupRows || this.buffered >= this.config.rowGroupBytes) this.flushRowGroup();
  }

  private flushRowGroup(): void {
    const n = this.values[0]?.length ?? 0;
    if (n === 0) return;
    const columnData: ColumnSource[] = this.columns.map((c, i) => ({
      name: c.name,
      data: c.type === 'int64' ? this.values[i].map((v) => (v === null ? null : BigInt(v as number))) : (this.values[i] as ColumnSource['data']),
    }));
    void this.writer.write({ columnData, rowGroupSize: n });
    for (let i = 0; i < this.values.length; i++) this.values[i] = [];
    this.buffered = 0;
  }

  publish(): string[] {
    this.flushRowGroup();
    void this.writer.finish();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.final);
    return [this.final];
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.tmp, { force: true });
  }
}
