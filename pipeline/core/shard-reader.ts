/**
 * Reads shards batch by batch through a file handle (random access to the footer's
 * batch index), so memory holds one record batch at a time. apache-arrow's read-stream
 * path buffers far more (about 1 GB for a large file), hence the handle.
 */
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Message, RecordBatchReader, type AsyncRecordBatchFileReader, type RecordBatch, type Schema } from 'apache-arrow';
import { makeColumnReader, type ColumnReader } from './columns.js';
import { reclaimDecodedBuffers, useAllDecoders } from './compression.js';
import { UserError, errorMessage } from './errors.js';
import { checkSchemaVersion, columnTypeOf, type ColumnSpec, type Doc } from './schema.js';

const MAGIC = Buffer.from('ARROW1');

export interface ShardInfo {
  file: string;
  schema: Schema;
  columns: ColumnSpec[];
  metadata: Map<string, string>;
  batches: number;
}

export interface OpenShard extends ShardInfo {
  /** Record batches in file order. */
  readBatches(): AsyncGenerator<RecordBatch>;
  /** Record batch i alone, found through the footer (random access: nothing before it is read). */
  readBatch(i: number): Promise<RecordBatch | null>;
  /** Rows of every record batch, from the batch headers the footer points at (no batch body is read). */
  batchRows(): Promise<number[]>;
  /** Every document, in file order; closes the file when done. */
  docs(): AsyncGenerator<Doc>;
  close(): Promise<void>;
}

/** Shards in a stage output directory (kept documents), in the deterministic order stages use. */
export async function listShards(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new UserError(`${dir}: cannot list directory (${errorMessage(err)})`);
  }
  return names
    .filter((n) => n.endsWith('.arrow') && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
}

/** A file or a directory of shards -> the shard files, sorted. */
export async function resolveShards(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserError(`${path}: no such file or directory`);
  }
  return info.isDirectory() ? listShards(path) : [path];
}

async function checkMagic(file: string, handle: FileHandle): Promise<void> {
  const { size } = await handle.stat();
  const head = Buffer.alloc(8);
  const tail = Buffer.alloc(6);
  await handle.read(head, 0, 8, 0);
  if (size >= 6) await handle.read(tail, 0, 6, size - 6);
  if (size < 12 || !head.subarray(0, 6).equals(MAGIC)) {
    throw new UserError(
      head.readInt32LE(0) === -1
        ? `${file}: Arrow IPC *stream* format; refinery shards use the IPC file format (convert with pyarrow.ipc.new_file)`
        : `${file}: not an Arrow IPC file (missing ARROW1 magic)`,
    );
  }
  if (!tail.equals(MAGIC)) throw new UserError(`${file}: truncated Arrow IPC file (no footer; was its writer killed?)`);
}

/** Open and validate a shard. The caller must iterate `docs()` to the end or call `close()`. */
export async function openShard(file: string): Promise<OpenShard> {
  useAllDecoders();
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new UserError(`${file}: cannot open (${errorMessage(err)})`);
  }
  try {
    await checkMagic(file, handle);
    let reader: AsyncRecordBatchFileReader;
    try {
      const r = await RecordBatchReader.from(handle);
      await r.open();
      if (!r.isFile() || !r.isAsync()) throw new Error('not in IPC file format');
      reader = r as AsyncRecordBatchFileReader;
    } catch (err) {
      throw new UserError(`${file}: unreadable Arrow IPC file (${errorMessage(err)})`);
    }
    const schema = reader.schema;
    checkSchemaVersion(schema.metadata, file);
    const columns = schema.fields.map((f) => ({ name: f.name, type: columnTypeOf(f, file), nullable: f.nullable }));
    if (!columns.some((c) => c.name === 'id')) throw new UserError(`${file}: shard has no "id" column`);
    const batches = reader.numRecordBatches;
    let closed = false;
    const close = async () => {
      if (!closed) {
        closed = true;
        await handle.close();
      }
    };
    const readBatch = async (i: number): Promise<RecordBatch | null> => {
      try {
        return await reader.readRecordBatch(i);
      } catch (err) {
        throw new UserError(`${file}: record batch ${i} is unreadable (${errorMessage(err)})`);
      }
    };
    const batchRows = async (): Promise<number[]> => {
      const footer = reader.footer;
      if (!footer) throw new UserError(`${file}: no footer`);
      const rows: number[] = [];
      for (let i = 0; i < batches; i++) {
        const block = footer.getRecordBatch(i);
        if (!block) throw new UserError(`${file}: record batch ${i} missing from the footer`);
        const head = Buffer.alloc(block.metaDataLength);
        await handle.read(head, 0, head.length, Number(block.offset));
        // An encapsulated message: [0xFFFFFFFF continuation] int32 length, then the flatbuffer.
        const at = head.readInt32LE(0) === -1 ? 4 : 0;
        const length = head.readInt32LE(at);
        const message = Message.decode(head.subarray(at + 4, at + 4 + length));
        if (!message.isRecordBatch()) throw new UserError(`${file}: block ${i} of the footer is not a record batch`);
        rows.push(Number(message.header().length));
      }
      return rows;
    };
    async function* readBatches(): AsyncGenerator<RecordBatch> {
      for (let i = 0; i < batches; i++) {
        const batch = await readBatch(i);
        if (batch) yield batch;
      }
    }
    /** A batch's documents, decoded; the batch itself is garbage once this returns. */
    const batchAt = async (i: number): Promise<(Doc | undefined)[]> => {
      const batch = await readBatch(i);
      return batch ? [...batchDocs(batch, columns)] : [];
    };
    async function* docs(): AsyncGenerator<Doc> {
      // Each batch is decoded whole and let go before its documents are handed out, and each
      // document is let go once the consumer asks for the next: a batch holding one 50 MB
      // document was otherwise held, with its decoded copy, while the document was processed.
      try {
        for (let i = 0; i < batches; i++) {
          const decoded = await batchAt(i);
          await reclaimDecodedBuffers();
          for (let row = 0; row < decoded.length; row++) {
            const doc = decoded[row] as Doc;
            decoded[row] = undefined;
            yield doc;
          }
        }
      } finally {
        await close();
      }
    }
    return { file, schema, columns, metadata: schema.metadata, batches, readBatches, readBatch, batchRows, docs, close };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Open a shard for the duration of `fn`. */
export async function withShard<T>(file: string, fn: (shard: OpenShard) => Promise<T>): Promise<T> {
  const shard = await openShard(file);
  try {
    return await fn(shard);
  } finally {
    await shard.close();
  }
}

/** Readers for each column of a batch, in the order of `columns`. */
export function batchReaders(batch: RecordBatch, columns: readonly ColumnSpec[]): ColumnReader[] {
  return columns.map((c) => {
    const child = batch.getChild(c.name);
    if (!child) return () => null;
    // A batch read from a file holds one contiguous Data per column.
    return makeColumnReader(child.data[0]);
  });
}

/** Turn one record batch into documents. */
export function* batchDocs(batch: RecordBatch, columns: readonly ColumnSpec[]): Generator<Doc> {
  const readers = batchReaders(batch, columns);
  const names = columns.map((c) => c.name);
  for (let row = 0; row < batch.numRows; row++) {
    const doc = {} as Doc;
    for (let c = 0; c < readers.length; c++) doc[names[c]] = readers[c](row);
    yield doc;
  }
}
