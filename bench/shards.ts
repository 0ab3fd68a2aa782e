/**
 * Bench `shards`: write and read throughput and bytes on disk of document shards for each
 * body compression (zstd, lz4, none), against a bare apache-arrow loop (uncompressed) over
 * the same documents in the same run.
 *
 *   npm run bench -- shards [--size 1GB] [--dir /tmp] [--input DIR]
 *
 * Documents are Brown-corpus texts with realistic metadata columns, or with `--input` the
 * documents of a stage output (say out/demo/text, after `npm run demo`). Throughput counts
 * the UTF-8 bytes of `text` (what the stages move around); every side writes the same batches
 * of 8,192 rows to the same kind of file, and reads every cell back into JS values.
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import {
  Float32,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Struct,
  TimestampMillisecond,
  Utf8,
  makeData,
  vectorFromArray,
  type AsyncRecordBatchFileReader,
} from 'apache-arrow';
import { brownTexts } from '../datasets/brown.js';
import { byteSize } from '../pipeline/core/config.js';
import { CORE_COLUMNS, buildSchema, type Doc } from '../pipeline/core/schema.js';
import { COMPRESSIONS, type Compression } from '../pipeline/core/compression.js';
import { listShards, openShard } from '../pipeline/core/shard-reader.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { arg, crawledDoc, isolated, ratio, report } from './harness.js';

const BATCH = 8192;
const POOL_DOCS = 20_000;

/** The documents of a stage output, with the core columns only (flat strings, like the Brown pool). */
async function readPool(dir: string): Promise<{ docs: Doc[]; bytes: number }> {
  const docs: Doc[] = [];
  let bytes = 0;
  for (const file of await listShards(dir)) {
    for await (const doc of (await openShard(file)).docs()) {
      const text = typeof doc.text === 'string' ? doc.text : '';
      const core = {} as Doc;
      for (const c of CORE_COLUMNS) core[c.name] = doc[c.name] ?? null;
      docs.push({ ...core, text });
      bytes += Buffer.byteLength(text);
    }
  }
  if (docs.length === 0) throw new Error(`${dir}: no documents`);
  return { docs: JSON.parse(JSON.stringify(docs)) as Doc[], bytes };
}

/** A pool of distinct documents (flat strings, so neither side pays for flattening). */
function makePool(): { docs: Doc[]; bytes: number } {
  const texts = brownTexts().map((t) => t.text);
  const docs: Doc[] = [];
  let bytes = 0;
  for (let i = 0; i < POOL_DOCS; i++) {
    const text = texts[i % texts.length];
    docs.push(crawledDoc(i, text));
    bytes += Buffer.byteLength(text);
  }
  return { docs: JSON.parse(JSON.stringify(docs)) as Doc[], bytes };
}

function referenceBatch(docs: Doc[]): RecordBatch {
  const schema = buildSchema(CORE_COLUMNS, {});
  const col = (name: string) => docs.map((d) => d[name] ?? null);
  const children = [
    vectorFromArray(col('id'), new Utf8()).data[0],
    vectorFromArray(col('url'), new Utf8()).data[0],
    vectorFromArray(col('source'), new Utf8()).data[0],
    vectorFromArray(col('fetched_at') as (number | null)[], new TimestampMillisecond('UTC')).data[0],
    vectorFromArray(col('content_type'), new Utf8()).data[0],
    vectorFromArray(col('text'), new Utf8()).data[0],
    vectorFromArray(col('lang'), new Utf8()).data[0],
    vectorFromArray(col('lang_score') as (number | null)[], new Float32()).data[0],
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: docs.length, nullCount: 0, children }));
}

export async function main(args: string[]): Promise<void> {
  const target = byteSize().parse(arg(args, 'size', '1GB'));
  const child = arg(args, 'phase', '') !== '';
  const dir = child ? (process.env.BENCH_SHARDS_DIR as string) : mkdtempSync(join(arg(args, 'dir', tmpdir()), 'refinery-bench-shards-'));
  const ours = join(dir, 'ours');
  const ref = join(dir, 'reference.arrow');
  try {
    const input = arg(args, 'input', '');
    const pool = input ? await readPool(input) : makePool();
    const rounds = Math.ceil(target / pool.bytes);
    const docsTotal = rounds * pool.docs.length;
    const bytesTotal = rounds * pool.bytes;
    if (!child) console.log(`shards: ${input ? `the documents of ${input}` : 'Brown corpus'}, ${docsTotal} documents, ${(bytesTotal / 1e6).toFixed(0)} MB of text, batches of ${BATCH}, in ${dir}`);

    const ourFile = (c: Compression) => join(ours, c, 'part-00000-0000.arrow');
    const phases: Record<string, () => Promise<{ bytes: number; docs: number }> | { bytes: number; docs: number }> = {};
    for (const c of COMPRESSIONS) {
      phases[`write: refinery ShardWriter, ${c}`] = () => {
        mkdirSync(join(ours, c), { recursive: true });
        const writer = new ShardWriter({ dir: join(ours, c), base: 'part-00000', columns: CORE_COLUMNS, metadata: {}, maxPartBytes: 2 ** 40, batchRows: BATCH, batchBytes: 2 ** 30, compression: c });
        for (let r = 0; r < rounds; r++) for (const doc of pool.docs) writer.write(doc);
        writer.publish();
        return { bytes: bytesTotal, docs: docsTotal };
      };
    }
    for (const c of COMPRESSIONS) {
      phases[`read: refinery openShard().docs(), ${c}`] = async () => {
        let bytes = 0;
        let docs = 0;
        const shard = await openShard(ourFile(c));
        for await (const doc of shard.docs()) {
          bytes += Buffer.byteLength(doc.text as string);
          docs++;
        }
        return { bytes, docs };
      };
    }
    const results = await isolated('shards', args, {
      ...phases,
      'write: bare apache-arrow': async () => {
        const writer = new RecordBatchFileWriter();
        const file = createWriteStream(ref);
        writer.toNodeStream().pipe(file);
        for (let r = 0; r < rounds; r++) {
          for (let i = 0; i < pool.docs.length; i += BATCH) {
            writer.write(referenceBatch(pool.docs.slice(i, i + BATCH)));
            // Let the pipe drain, as any streaming writer must.
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        writer.finish();
        await once(file, 'close');
        return { bytes: bytesTotal, docs: docsTotal };
      },
      'read: bare apache-arrow': async () => {
        let bytes = 0;
        let docs = 0;
        const handle = await open(ref, 'r');
        const reader = (await RecordBatchReader.from(handle)) as AsyncRecordBatchFileReader;
        await reader.open();
        for (let b = 0; b < reader.numRecordBatches; b++) {
          const batch = (await reader.readRecordBatch(b)) as RecordBatch;
          const names = batch.schema.fields.map((f) => f.name);
          const vectors = names.map((n) => batch.getChild(n));
          for (let i = 0; i < batch.numRows; i++) {
            const row: Record<string, unknown> = {};
            for (let c = 0; c < vectors.length; c++) row[names[c]] = vectors[c]?.get(i);
            bytes += Buffer.byteLength(row.text as string);
            docs++;
          }
        }
        await handle.close();
        return { bytes, docs };
      },
    }, { BENCH_SHARDS_DIR: dir });
    if (!results) return;

    report(results);
    const find = (name: string) => results.find((r) => r.name === name) as (typeof results)[number];
    const mb = (file: string) => (statSync(file).size / 1e6).toFixed(1);
    console.log(`bytes on disk: ${COMPRESSIONS.map((c) => `${c} ${mb(ourFile(c))} MB (${(bytesTotal / statSync(ourFile(c)).size).toFixed(2)}x the text)`).join(', ')}; bare apache-arrow ${mb(ref)} MB`);
    console.log(`ratio write (refinery none / bare apache-arrow): ${ratio(find('write: refinery ShardWriter, none'), find('write: bare apache-arrow'))}`);
    console.log(`ratio read  (refinery none / bare apache-arrow): ${ratio(find('read: refinery openShard().docs(), none'), find('read: bare apache-arrow'))}`);
  } finally {
    if (!child) rmSync(dir, { recursive: true, force: true });
  }
}
