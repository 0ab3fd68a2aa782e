/**
 * Documents of one part of a stage output (its kept or its excluded shards) by position,
 * without scanning: the index holds each file's record-batch row counts, read from the batch
 * headers the Arrow file footer points at, so document N is one seek and one batch decode.
 * Memory holds the index (a few numbers per batch) and at most one decoded batch.
 */
import { statSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { reclaimDecodedBuffers } from '../core/compression.js';
import { excludedDirToRead } from '../core/layout.js';
import type { ColumnSpec, Doc } from '../core/schema.js';
import { batchReaders, listShards, openShard, withShard } from '../core/shard-reader.js';

export type PartName = 'kept' | 'excluded';

interface FileIndex {
  file: string;
  /** Position of the file's first document in the part. */
  start: number;
  batchStarts: number[];
  batchRows: number[];
}

export interface PartIndex {
  dir: string;
  files: FileIndex[];
  rows: number;
  columns: ColumnSpec[];
  /** Files, sizes and times it was built from: a changed part is indexed again. */
  signature: string;
}

export interface Positioned {
  pos: number;
  doc: Doc;
}

const cache = new Map<string, { signature: string; index: Promise<PartIndex> }>();
const ID_INDEX_MAX_ROWS = 300_000;
const idIndexes = new Map<string, Map<string, number>>();

/** The folder holding a part of `out` (null: the output excluded nothing). */
export const partDir = (out: string, part: PartName): string | null => (part === 'kept' ? out : excludedDirToRead(out));

async function signatureOf(files: readonly string[]): Promise<string> {
  return files.map((f) => {
    const s = statSync(f);
    return `${f}:${s.size}:${s.mtimeMs}`;
  }).join('|');
}

/** Files opened at once while indexing (their footers and batch headers are small reads). */
const OPEN_AT_ONCE = 8;

async function indexFile(file: string): Promise<{ batchRows: number[]; columns: ColumnSpec[] }> {
  return withShard(file, async (shard) => ({ batchRows: await shard.batchRows(), columns: shard.columns }));
}

async function buildIndex(dir: string, files: readonly string[], signature: string): Promise<PartIndex> {
  const read: { batchRows: number[]; columns: ColumnSpec[] }[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) read[i] = await indexFile(files[i]);
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_AT_ONCE, files.length) }, worker));
  const index: PartIndex = { dir, files: [], rows: 0, columns: [], signature };
  files.forEach((file, i) => {
    const batchStarts: number[] = [];
    let at = index.rows;
    for (const n of read[i].batchRows) {
      batchStarts.push(at);
      at += n;
    }
    index.files.push({ file, start: index.rows, batchStarts, batchRows: read[i].batchRows });
    index.rows = at;
    for (const c of read[i].columns) if (!index.columns.some((k) => k.name === c.name)) index.columns.push(c);
  });
  return index;
}

/** The index of a part, built on first use and again when its files change (requests at once share one build). */
export async function indexPart(dir: string): Promise<PartIndex> {
  const files = await listShards(dir);
  const signature = await signatureOf(files);
  const known = cache.get(dir);
  if (known && known.signature === signature) return known.index;
  const index = buildIndex(dir, files, signature);
  cache.set(dir, { signature, index });
  idIndexes.delete(dir);
  try {
    return await index;
  } catch (err) {
    cache.delete(dir);
    throw err;
  }
}

/** The file and batch holding document `pos` (binary search over the batch starts). */
function locate(index: PartIndex, pos: number): { file: FileIndex; batch: number } | null {
  if (pos < 0 || pos >= index.rows) return null;
  let lo = 0;
  let hi = index.files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (index.files[mid].start <= pos) lo = mid;
    else hi = mid - 1;
  }
  const file = index.files[lo];
  let b = 0;
  let e = file.batchStarts.length - 1;
  while (b < e) {
    const mid = (b + e + 1) >> 1;
    if (file.batchStarts[mid] <= pos) b = mid;
    else e = mid - 1;
  }
  return { file, batch: b };
}

/** Rows `from`..`to` (exclusive, batch-relative) of a batch as documents with their positions. */
function rowsOf(batch: RecordBatch, columns: readonly ColumnSpec[], start: number, from: number, to: number): Positioned[] {
  const readers = batchReaders(batch, columns);
  const out: Positioned[] = [];
  for (let row = from; row < Math.min(to, batch.numRows); row++) {
    const doc = {} as Doc;
    for (let c = 0; c < columns.length; c++) doc[columns[c].name] = readers[c](row);
    out.push({ pos: start + row, doc });
  }
  return out;
}

async function readBatchAt(file: FileIndex, batch: number): Promise<{ batch: RecordBatch | null; columns: ColumnSpec[] }> {
  const shard = await openShard(file.file);
  try {
    return { batch: await shard.readBatch(batch), columns: shard.columns };
  } finally {
    await shard.close();
  }
}

/** `n` documents from position `at`, reading only the batches that hold them. */
export async function docsAt(index: PartIndex, at: number, n: number): Promise<Positioned[]> {
  const out: Positioned[] = [];
  let pos = at;
  while (out.length < n) {
    const where = locate(index, pos);
    if (!where) break;
    const start = where.file.batchStarts[where.batch];
    const { batch, columns } = await readBatchAt(where.file, where.batch);
    if (!batch) break;
    const rows = rowsOf(batch, columns, start, pos - start, pos - start + n - out.length);
    await reclaimDecodedBuffers();
    if (rows.length === 0) break;
    out.push(...rows);
    pos = rows[rows.length - 1].pos + 1;
  }
  return out;
}

/** Documents from position `from` on, a batch at a time (the caller stops when it has enough); `only`: just these columns. */
export async function* scanFrom(index: PartIndex, from: number, only?: readonly string[]): AsyncGenerator<Positioned[]> {
  let pos = Math.max(0, from);
  for (;;) {
    const where = locate(index, pos);
    if (!where) return;
    const start = where.file.batchStarts[where.batch];
    const { batch, columns } = await readBatchAt(where.file, where.batch);
    if (!batch) return;
    const rows = rowsOf(batch, only ? columns.filter((c) => only.includes(c.name)) : columns, start, pos - start, batch.numRows);
    await reclaimDecodedBuffers();
    if (rows.length === 0) return;
    yield rows;
    pos = rows[rows.length - 1].pos + 1;
  }
}

/** The ids of a part, read one column at a time. */
async function* idsOf(index: PartIndex): AsyncGenerator<{ id: string; pos: number }> {
  const idColumn: ColumnSpec[] = [{ name: 'id', type: 'string' }];
  for (const file of index.files) {
    for (let b = 0; b < file.batchStarts.length; b++) {
      const { batch } = await readBatchAt(file, b);
      if (!batch) continue;
      const [read] = batchReaders(batch, idColumn);
      const start = file.batchStarts[b];
      for (let row = 0; row < batch.numRows; row++) yield { id: String(read(row)), pos: start + row };
      await reclaimDecodedBuffers();
    }
  }
}

/**
 * Position of document `id` in a part, or null. Parts up to ID_INDEX_MAX_ROWS documents keep
 * an id -> position map after the first look-up; larger ones are scanned each time.
 */
export async function positionOf(index: PartIndex, id: string): Promise<number | null> {
  if (index.rows > ID_INDEX_MAX_ROWS) {
    for await (const d of idsOf(index)) if (d.id === id) return d.pos;
    return null;
  }
  return (await idIndexOf(index)).get(id) ?? null;
}

async function idIndexOf(index: PartIndex): Promise<Map<string, number>> {
  let ids = idIndexes.get(index.dir);
  if (!ids) {
    ids = new Map();
    for await (const d of idsOf(index)) if (!ids.has(d.id)) ids.set(d.id, d.pos);
    idIndexes.set(index.dir, ids);
  }
  return ids;
}

/**
 * Index every part in the background (footers and batch headers only), so the first page of
 * an output does not wait for it; a part that cannot be indexed says so when its page is asked for.
 */
export async function indexAll(dirs: readonly string[]): Promise<void> {
  const parts = dirs.flatMap((out) => [partDir(out, 'kept'), partDir(out, 'excluded')]).filter((d): d is string => d !== null);
  const indexes: PartIndex[] = [];
  for (const dir of parts) await indexPart(dir).then((index) => indexes.push(index), () => undefined);
  // Then the ids of the smaller parts, which a document page looks up in every output of its lineage.
  for (const index of indexes) if (index.rows <= ID_INDEX_MAX_ROWS) await idIndexOf(index).catch(() => undefined);
}
