/**
 * Bench `export`: Parquet export of a document shard, against a plain Arrow shard copy
 * (read + ShardWriter, what every stage does) and against parquet-wasm (arrow-rs compiled to
 * WebAssembly, the other proven JavaScript Parquet writer), in the same run.
 *
 *   npm run bench -- export [--size 200MB] [--dir /tmp]
 *
 * Documents are Brown-corpus texts with the full core schema (as bench `shards`), written to
 * one shard first. Each phase reads that shard and writes one file, in its own process (peak
 * RSS is its own). Throughput counts the UTF-8 bytes of `text`. File sizes are printed after.
 * The texts repeat every 500 documents (each numbered, so none is equal to another), further
 * apart than a page, so the sizes are those of English text under zstd.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { brownTexts } from '../datasets/brown.js';
import { byteSize } from '../pipeline/core/config.js';
import { CORE_COLUMNS, type Doc } from '../pipeline/core/schema.js';
import { openShard } from '../pipeline/core/shard-reader.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { ParquetSink, loadZstd } from '../pipeline/export/parquet.js';
import { arg, crawledDoc, isolated, ratio, report } from './harness.js';

function* documents(target: number): Generator<Doc> {
  const texts = brownTexts().map((t) => t.text);
  let bytes = 0;
  for (let i = 0; bytes < target; i++) {
    // Numbered, so no two texts are equal (a dictionary would store a repeated text once).
    const text = `${i}. ${texts[i % texts.length]}`;
    bytes += Buffer.byteLength(text);
    yield crawledDoc(i, text);
  }
}

export async function main(args: string[]): Promise<void> {
  const target = byteSize().parse(arg(args, 'size', '200MB'));
  const child = arg(args, 'phase', '') !== '';
  const dir = child ? (process.env.BENCH_EXPORT_DIR as string) : mkdtempSync(join(arg(args, 'dir', tmpdir()), 'refinery-bench-export-'));
  const input = join(dir, 'in', 'part-00000-0000.arrow');
  const out = (name: string) => join(dir, name);
  try {
    if (!child) {
      mkdirSync(join(dir, 'in'), { recursive: true });
      const w = new ShardWriter({ dir: join(dir, 'in'), base: 'part-00000', columns: CORE_COLUMNS, metadata: {}, maxPartBytes: 2 ** 40 });
      for (const doc of documents(target)) w.write(doc);
      w.publish();
      console.log(`export: one shard of ${w.rows} documents (${(statSync(input).size / 1e6).toFixed(0)} MB; numbered Brown texts) in ${dir}`);
    }
    const readAll = async (each: (doc: Doc) => void) => {
      let bytes = 0;
      let docs = 0;
      const shard = await openShard(input);
      for await (const doc of shard.docs()) {
        each(doc);
        bytes += Buffer.byteLength(doc.text as string);
        docs++;
      }
      return { bytes, docs };
    };
    const results = await isolated(
      'export',
      args,
      {
        'copy: Arrow shard (openShard + ShardWriter)': async () => {
          mkdirSync(out('copy'), { recursive: true });
          const w = new ShardWriter({ dir: out('copy'), base: 'part-00000', columns: CORE_COLUMNS, metadata: {}, maxPartBytes: 2 ** 40 });
          const r = await readAll((d) => w.write(d));
          w.publish();
          return r;
        },
        'export: Parquet, hyparquet-writer + zstd (ours)': async () => {
          mkdirSync(out('ours'), { recursive: true });
          await loadZstd();
          const sink = new ParquetSink(
            { dir: out('ours'), base: 'part-00000', task: 0, columns: CORE_COLUMNS, metadata: {}, inputMetadata: {} },
            { rowGroupRows: 100_000, rowGroupBytes: 128 * 2 ** 20 },
          );
          const r = await readAll((d) => sink.write(d));
          sink.publish();
          return r;
        },
        'export: Parquet, parquet-wasm (arrow-rs) + zstd': () => {
          // arrow-rs takes Arrow IPC bytes: the whole shard, written in row groups of 100k rows.
          const pw = createRequire(import.meta.url)('parquet-wasm') as typeof import('parquet-wasm');
          const table = tableFromIPC(readFileSync(input));
          const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(100_000).build();
          writeFileSync(out('parquet-wasm.parquet'), pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props));
          let bytes = 0;
          for (const t of table.getChild('text') ?? []) bytes += Buffer.byteLength(t as string);
          return { bytes, docs: table.numRows };
        },
      },
      { BENCH_EXPORT_DIR: dir },
    );
    if (!results) return;
    report(results);
    const size = (p: string) => `${(statSync(p).size / 1e6).toFixed(1)} MB`;
    console.log(`\nfile sizes: input Arrow ${size(input)}, Arrow copy ${size(join(out('copy'), 'part-00000-0000.arrow'))}, ours ${size(join(out('ours'), 'part-00000-0000.parquet'))}, parquet-wasm ${size(out('parquet-wasm.parquet'))}`);
    console.log(`throughput vs the Arrow copy: ours ${ratio(results[1], results[0])}, parquet-wasm ${ratio(results[2], results[0])}; ours vs parquet-wasm ${ratio(results[1], results[2])}`);
  } finally {
    if (!child) rmSync(dir, { recursive: true, force: true });
  }
}
