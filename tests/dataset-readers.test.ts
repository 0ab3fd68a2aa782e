/**
 * Stage outputs as other tools see them: pyarrow's dataset reader, DuckDB (over that dataset)
 * and nodejs-polars read exactly the kept documents of an output directory, compressed or not,
 * and outputs of earlier versions (excluded/ instead of _excluded/) still read.
 *
 * The Python readers need `pip install pyarrow duckdb` (.ci/run does it); without them these
 * tests skip, except under CI=true, where they fail.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionType, MessageHeader, MessageReader } from 'apache-arrow';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import type { Doc } from '../pipeline/core/schema.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

const python = spawnSync('python3', ['-c', 'import pyarrow, duckdb'], { encoding: 'utf8' });
const pythonMissing = python.status === 0 ? null : `python3 with pyarrow and duckdb is missing (${(python.stderr || String(python.error)).trim().split('\n').pop()})`;
if (pythonMissing && process.env.CI === 'true') throw new Error(`${pythonMissing}; CI=true requires it (pip install pyarrow duckdb)`);
const withPython = pythonMissing ? it.skip : it;
if (pythonMissing) console.warn(`dataset-readers: skipping the pyarrow and DuckDB tests: ${pythonMissing}`);

/** What pyarrow.dataset and DuckDB (scanning that dataset) read from an output directory: [id, text] sorted by id. */
function pythonRead(out: string): { pyarrow: [string, string][]; duckdb: [string, string][]; files: number } {
  const script = `
import json, sys, duckdb, pyarrow.dataset as ds
data = ds.dataset(sys.argv[1], format="arrow")
t = data.to_table(columns=["id", "text"]).sort_by("id")
rows = duckdb.sql("select id, text from data order by id").fetchall()
print(json.dumps({"pyarrow": list(zip(t.column("id").to_pylist(), t.column("text").to_pylist())),
                  "duckdb": [list(r) for r in rows], "files": len(data.files)}))
`;
  const r = spawnSync('python3', ['-c', script, out], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { pyarrow: [string, string][]; duckdb: [string, string][]; files: number };
}

const byId = (docs: Doc[]): [string, string][] =>
  docs.map((d) => [d.id as string, d.text as string] as [string, string]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const keptParts = (out: string) => readdirSync(out).filter((n) => /^part-.*\.arrow$/.test(n));
const bytesOf = (out: string) => keptParts(out).reduce((n, f) => n + statSync(join(out, f)).size, 0);

/** The codec named by each record batch message of every kept part of `out` (null: uncompressed). */
function codecsOf(out: string): Set<string | null> {
  const codecs = new Set<string | null>();
  for (const part of keptParts(out)) {
    const reader = new MessageReader(readFileSync(join(out, part)).subarray(8)); // after the file magic
    for (let m = reader.readMessage(); m; m = reader.readMessage()) {
      if (m.headerType !== MessageHeader.RecordBatch) continue;
      const type = (m.header() as { compression?: { type: CompressionType } | null }).compression?.type;
      codecs.add(type === undefined ? null : CompressionType[type]);
      reader.readMessageBody(m.bodyLength);
    }
  }
  return codecs;
}

let corpus: string;
const out = { zstd: '', lz4: '', none: '', pipeline: '' };

beforeAll(() => {
  corpus = join(dir, 'corpus');
  writeBrownJsonl(corpus);
  out.zstd = join(dir, 'zstd'); // the default
  out.lz4 = join(dir, 'lz4');
  out.none = join(dir, 'none');
  cliOk(['import', corpus, '-o', out.zstd, '--min-chars', '10500', '--progress', 'off']);
  cliOk(['import', corpus, '-o', out.lz4, '--min-chars', '10500', '--compression', 'lz4', '--progress', 'off']);
  cliOk(['import', corpus, '-o', out.none, '--min-chars', '10500', '--compression', 'none', '--progress', 'off']);
  // A pipeline file: compression set once at the top, for every stage; quality excludes by its rules.
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(
    file,
    `progress: off\ncompression: lz4\nstages:\n  - stage: import\n    input: ${corpus}\n    output: ${dir}/pipe/raw\n    min_chars: 2000\n  - stage: quality\n    output: ${dir}/pipe/quality\n`,
  );
  cliOk(['run', file]);
  out.pipeline = join(dir, 'pipe', 'quality');
}, 300_000);

describe('an output directory is a dataset of its kept documents', () => {
  it('holds nothing but kept parts outside _ and . names, and the same documents whatever the compression', async () => {
    for (const o of Object.values(out)) {
      expect(readdirSync(o).filter((n) => !n.startsWith('_') && !n.startsWith('.') && !/^part-.*\.arrow$/.test(n))).toEqual([]);
      expect(existsSync(join(o, 'excluded'))).toBe(false);
      const totals = await expectAccounting(o);
      expect(totals.docs_excluded).toBeGreaterThan(0);
    }
    expect(codecsOf(out.zstd)).toEqual(new Set(['ZSTD']));
    expect(codecsOf(out.lz4)).toEqual(new Set(['LZ4_FRAME']));
    expect(codecsOf(out.none)).toEqual(new Set([null]));
    // compression: lz4 at the top of the pipeline file applies to each of its stages.
    expect(codecsOf(join(dir, 'pipe', 'raw'))).toEqual(new Set(['LZ4_FRAME']));
    expect(codecsOf(out.pipeline)).toEqual(new Set(['LZ4_FRAME']));
    const reference = byId(await readDocs(out.none));
    expect(byId(await readDocs(out.zstd))).toEqual(reference);
    expect(byId(await readDocs(out.lz4))).toEqual(reference);
    // Compression is real: Brown text takes less room with lz4, and less again with zstd.
    expect(bytesOf(out.lz4)).toBeLessThan(bytesOf(out.none) * 0.8);
    expect(bytesOf(out.zstd)).toBeLessThan(bytesOf(out.lz4));
  });

  withPython('pyarrow.dataset and DuckDB read exactly the kept documents and their text (zstd, lz4, none, a pipeline output)', async () => {
    for (const [name, o] of Object.entries(out)) {
      const kept = byId(await readDocs(o));
      const got = pythonRead(o);
      expect(got.files, name).toBe(keptParts(o).length);
      expect(got.pyarrow.length, name).toBe(kept.length);
      expect(got.pyarrow, name).toEqual(kept);
      expect(got.duckdb, name).toEqual(kept);
    }
  });

  withPython('the excluded documents are a dataset of their own in _excluded/', async () => {
    const excluded = byId(await readDocs(join(out.zstd, '_excluded')));
    expect(excluded.length).toBeGreaterThan(0);
    expect(pythonRead(join(out.zstd, '_excluded')).pyarrow).toEqual(excluded);
  });

  it('nodejs-polars reads the zstd and lz4 shards, one by one and through a glob', async () => {
    for (const o of [out.zstd, out.lz4]) {
      const kept = await readDocs(o);
      const ids: string[] = [];
      const texts: string[] = [];
      for (const part of keptParts(o).sort()) {
        const df = pl.readIPC(readFileSync(join(o, part)));
        ids.push(...(df.getColumn('id').toArray() as string[]));
        texts.push(...(df.getColumn('text').toArray() as string[]));
      }
      expect(ids).toEqual(kept.map((d) => d.id));
      expect(texts).toEqual(kept.map((d) => d.text));
      const lazy = pl.scanIPC(join(o, 'part-*.arrow')).select('id').collectSync();
      expect(lazy.height).toBe(kept.length);
    }
  });
});

describe('an output written by an earlier version (excluded/)', () => {
  it('still reads, with a one-line notice, and a run into it renames excluded/ to _excluded/', async () => {
    const old = join(dir, 'old');
    cpSync(out.none, old, { recursive: true });
    renameSync(join(old, '_excluded'), join(old, 'excluded'));
    const excluded = await readDocs(join(old, 'excluded'));

    const r = cliOk(['inspect', old, '--excluded', '--json']);
    expect(JSON.parse(r.stdout).rows).toBe(excluded.length);
    const notices = r.stderr.split('\n').filter((l) => l.includes('excluded/'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`${old}: excluded documents are in excluded/`);
    const one = cliOk(['inspect', old, '--id', excluded[0].id as string, '--json']);
    expect(JSON.parse(one.stdout).id).toBe(excluded[0].id);

    const rerun = cli(['import', corpus, '-o', old, '--min-chars', '10500', '--compression', 'none', '--progress', 'log']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('renaming excluded/');
    expect(existsSync(join(old, 'excluded'))).toBe(false);
    expect(byId(await readDocs(join(old, '_excluded')))).toEqual(byId(excluded));
    await expectAccounting(old);
  });
});
