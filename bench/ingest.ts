/**
 * Bench `ingest`: reading web archives into documents, against bare zlib gunzip of the same
 * bytes and against the `warcio` package, in the same run.
 *
 *   npm run bench -- ingest [--size 200MB] [--dir /tmp]
 *
 * Input: the sample web (copied until --size of compressed WARC is reached) plus every real
 * archive in ../shared/data when it is there. MB/s counts compressed input bytes.
 */
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { WARCParser } from 'warcio';

// warcio logs every lenient parse to the console; the benchmark output stays readable without it.
console.warn = () => {};
import { buildSampleWeb } from '../datasets/sample-web/index.js';
import { byteSize } from '../pipeline/core/config.js';
import { runOptions, runStage } from '../pipeline/core/executor.js';
import type { TaskContext } from '../pipeline/core/stage.js';
import { ingestOptions, ingestStage, recordToDoc } from '../pipeline/ingest/index.js';
import { readArchive } from '../pipeline/warc/archive.js';
import { ByteReader } from '../pipeline/warc/byte-reader.js';
import { arg, isolated, ratio, report } from './harness.js';

const ARCHIVE = /\.(warc|arc|wet)(\.gz)?$/;

function listInputs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => ARCHIVE.test(n))
    .sort()
    .map((n) => join(dir, n));
}

function prepare(dir: string, target: number): void {
  const web = join(dir, 'web');
  buildSampleWeb({ out: web, pages: 4000, seed: 1 });
  const inputs = join(dir, 'inputs');
  mkdirSync(inputs);
  let bytes = 0;
  const shared = process.env.REFINERY_SHARED_DATA ?? resolve(process.cwd(), '..', 'shared', 'data');
  if (existsSync(shared)) {
    for (const folder of readdirSync(shared)) {
      const path = join(shared, folder);
      if (!statSync(path).isDirectory()) continue;
      for (const f of listInputs(path)) {
        copyFileSync(f, join(inputs, `real-${folder}-${f.split('/').pop()}`));
        bytes += statSync(f).size;
      }
    }
  }
  for (let copy = 0; bytes < target; copy++) {
    for (const f of listInputs(web)) {
      copyFileSync(f, join(inputs, `copy${String(copy).padStart(2, '0')}-${f.split('/').pop()}`));
      bytes += statSync(f).size;
    }
  }
}

const nullContext: TaskContext = {
  task: { index: 0, path: '', rel: '' },
  reject() {},
  problem() {},
  count() {},
};

export async function main(args: string[]): Promise<void> {
  const target = byteSize().parse(arg(args, 'size', '200MB'));
  const child = arg(args, 'phase', '') !== '';
  const dir = child ? (process.env.BENCH_INGEST_DIR as string) : mkdtempSync(join(arg(args, 'dir', tmpdir()), 'refinery-bench-ingest-'));
  try {
    if (!child) prepare(dir, target);
    const inputs = listInputs(join(dir, 'inputs'));
    const compressed = inputs.reduce((n, f) => n + statSync(f).size, 0);
    const config = ingestOptions.parse({});
    if (!child) console.log(`ingest: ${inputs.length} files, ${(compressed / 1e6).toFixed(0)} MB compressed (sample web + real archives), in ${dir}`);

    const results = await isolated(
      'ingest',
      args,
      {
        'bare zlib gunzip (reference)': async () => {
          let out = 0;
          for (const f of inputs) {
            if (!f.endsWith('.gz')) continue;
            const gunzip = createReadStream(f, { highWaterMark: 1 << 20 }).pipe(createGunzip());
            try {
              for await (const chunk of gunzip as AsyncIterable<Buffer>) out += chunk.length;
            } catch {
              // Damaged real files end early; the bytes read so far count.
            }
          }
          return { bytes: compressed, docs: Math.round(out / 1e6) };
        },
        'refinery readArchive -> documents': async () => {
          let docs = 0;
          for (const f of inputs) {
            const records = readArchive(ByteReader.fromFile(f), {
              want: (t) => t === 'response' || t === 'conversion',
              maxContent: config.max_record_size,
              maxMember: 64 << 20,
              onDamage: () => {},
            });
            for await (const rec of records) if (recordToDoc(rec, { index: 0, path: f, rel: f }, config, nullContext)) docs++;
          }
          return { bytes: compressed, docs };
        },
        'warcio + createGunzip (sample-web files only)': async () => {
          // warcio spins forever (100% CPU, no timeout) on some of the damaged real files,
          // so it only reads the sample-web copies; MB/s counts those files' bytes.
          let records = 0;
          let bytes = 0;
          for (const f of inputs.filter((name) => name.includes('/copy'))) {
            const stream = createReadStream(f, { highWaterMark: 1 << 20 }).pipe(createGunzip());
            for await (const record of new WARCParser(stream)) {
              if (record.warcType === 'response') await record.readFully(false);
              records++;
            }
            bytes += statSync(f).size;
          }
          return { bytes, docs: records };
        },
        'refinery ingest stage (2 workers, shards written)': async () => {
          const out = join(dir, `out-${process.pid}`);
          const result = await runStage({
            stage: ingestStage,
            config,
            inputs: [join(dir, 'inputs')],
            out,
            options: runOptions.parse({ workers: 2, progress: 'off' }),
            workerScript: new URL('../pipeline/worker.js', import.meta.url).pathname,
            log: () => {},
          });
          rmSync(out, { recursive: true, force: true });
          return { bytes: compressed, docs: result.totals.docs_kept };
        },
      },
      { BENCH_INGEST_DIR: dir },
    );
    if (!results) return;
    report(results);
    console.log(`ratio (refinery reader / bare gunzip, compressed MB/s): ${ratio(results[1], results[0])}`);
    console.log(`ratio (refinery reader / warcio + gunzip): ${ratio(results[1], results[2])}`);
  } finally {
    if (!child) rmSync(dir, { recursive: true, force: true });
  }
}
