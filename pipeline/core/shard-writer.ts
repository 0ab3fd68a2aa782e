/**
 * Streams documents into Arrow IPC *file* format shards.
 *
 * - Rows are buffered per column and flushed as one record batch every `batchRows`
 *   rows or `batchBytes` bytes, so memory stays bounded whatever the input size.
 * - A new part starts when the current one passes `maxPartBytes`.
 * - Parts are written under a hidden temporary name and only renamed to their final
 *   name by `publish()`, so a reader never sees a half-written shard.
 * - Bodies are compressed (zstd by default; lz4 or none on request) with the IPC format's
 *   own buffer compression, so shards stay standard Arrow IPC files (core/compression.ts).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import { RecordBatch, RecordBatchFileWriter, Struct, makeData, type Schema } from 'apache-arrow';
import { makeColumnBuilder, type ColumnBuilder } from './columns.js';
import { DEFAULT_COMPRESSION, fixLengthPrefixes, useCompression, type Compression } from './compression.js';
import { buildSchema, utf8Of, type ColumnSpec, type Doc } from './schema.js';

export interface ShardWriterOptions {
  dir: string;
  /** Final files are `<base>-0000.arrow`, `<base>-0001.arrow`, ... */
  base: string;
  columns: readonly ColumnSpec[];
  metadata: Record<string, string>;
  maxPartBytes?: number;
  batchRows?: number;
  batchBytes?: number;
  /** Body compression of the record batches (default zstd). */
  compression?: Compression;
}

export const DEFAULT_MAX_PART_BYTES = 256 * 1024 * 1024;
const DEFAULT_BATCH_ROWS = 8192;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;

/** apache-arrow's file writer, with its byte sink replaced by synchronous writes to a file descriptor. */
export class FdFileWriter extends RecordBatchFileWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly fd: number,
    compression: Compression = 'none',
  ) {
    super({ compressionType: useCompression(compression) });
  }

  // apache-arrow 21.2.0 puts the compressed length where the uncompressed one belongs.
  protected override _compressBodyBuffers(buffers: ArrayBufferView[]): ReturnType<RecordBatchFileWriter['_compressBodyBuffers']> {
    const result = super._compressBodyBuffers(buffers);
    fixLengthPrefixes(buffers, result.buffers as Uint8Array[]);
    return result;
  }

  get position(): number {
    return this._position;
  }

  protected override _write(chunk: ArrayBufferView): this {
    if (this._started && chunk.byteLength > 0) {
      this.pending.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.pendingBytes += chunk.byteLength;
      this._position += chunk.byteLength;
      // Batches reference their builders' buffers only until the next flush: write now.
      if (this.pendingBytes > 1 << 20 || this.pending.length > 512) this.drain();
    }
    return this;
  }

  drain(): void {
    let chunks = this.pending;
    while (chunks.length > 0) {
      const written = writevSync(this.fd, chunks);
      chunks = skipBytes(chunks, written);
    }
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function skipBytes(chunks: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i].byteLength) n -= chunks[i++].byteLength;
  if (i === chunks.length) return [];
  const rest = chunks.slice(i);
  rest[0] = rest[0].subarray(n);
  return rest;
}

interface OpenPart {
  tmp: string;
  final: string;
  fd: number;
  writer: FdFileWriter;
}

export class ShardWriter {
  readonly schema: Schema;
  private readonly builders: ColumnBuilder[];
  private readonly names: string[];
  private readonly maxPartBytes: number;
  private readonly batchRows: number;
  private readonly batchBytes: number;
  private part: OpenPart | null = null;
  private readonly finished: OpenPart[] = [];
  private partIndex = 0;
  private closed = false;
  /** Rows written (all parts). */
  rows = 0;

  constructor(private readonly opts: ShardWriterOptions) {
    this.schema = buildSchema(opts.columns, opts.metadata);
    this.names = opts.columns.map((c) => c.name);
    this.builders = opts.columns.map((c) => makeColumnBuilder(c.type));
    this.maxPartBytes = opts.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
    this.batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
    // Parts roll over at batch boundaries: keep batches well under the part size.
    this.batchBytes = opts.batchBytes ?? Math.min(DEFAULT_BATCH_BYTES, Math.max(64 * 1024, this.maxPartBytes / 4));
  }

  write(doc: Doc): void {
    const { builders, names } = this;
    for (let c = 0; c < builders.length; c++) {
      const value = doc[names[c]];
      builders[c].append(value, typeof value === 'string' ? utf8Of(doc, names[c], value) : undefined);
    }
    this.rows++;
    if (builders[0].length >= this.batchRows || this.bufferedBytes() >= this.batchBytes) this.flushBatch();
  }

  private bufferedBytes(): number {
    let bytes = 0;
    for (const b of this.builders) bytes += b.byteSize;
    return bytes;
  }

  private flushBatch(): void {
    const length = this.builders[0].length;
    if (length === 0) return;
    const children = this.builders.map((b) => b.flush());
    const struct = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    const part = this.part ?? this.openPart();
    part.writer.write(new RecordBatch(this.schema, struct));
    part.writer.drain();
    if (part.writer.position >= this.maxPartBytes) this.closePart();
  }

  private openPart(): OpenPart {
    const name = `${this.opts.base}-${String(this.partIndex++).padStart(4, '0')}.arrow`;
    const tmp = join(this.opts.dir, `.${name}.tmp`);
    const fd = openSync(tmp, 'w');
    const writer = new FdFileWriter(fd, this.opts.compression ?? DEFAULT_COMPRESSION);
    writer.reset(undefined, this.schema);
    this.part = { tmp, final: join(this.opts.dir, name), fd, writer };
    return this.part;
  }

  private closePart(): void {
    const part = this.part;
    if (!part) return;
    part.writer.finish();
    part.writer.drain();
    fsyncSync(part.fd);
    closeSync(part.fd);
    this.finished.push(part);
    this.part = null;
  }

  /** Flush buffered rows and complete the footer of the last part (still under its temporary name). */
  close(): void {
    if (this.closed) return;
    this.flushBatch();
    this.closePart();
    this.closed = true;
  }

  /** Rename every part to its final name; returns the final paths. */
  publish(): string[] {
    this.close();
    for (const part of this.finished) renameSync(part.tmp, part.final);
    return this.finished.map((p) => p.final);
  }

  /** Remove everything written so far. */
  abort(): void {
    if (this.part) {
      closeSync(this.part.fd);
      this.finished.push(this.part);
      this.part = null;
    }
    this.closed = true;
    for (const part of this.finished) rmSync(part.tmp, { force: true });
  }
}
