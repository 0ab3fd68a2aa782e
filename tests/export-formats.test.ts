/**
 * `refinery export --format parquet | hf` through the real CLI on real pages (WARC files in
 * ../shared/data, ingested, extracted, then split by `select --min --holdout`), read back
 * by pyarrow, DuckDB and Hugging Face datasets: exactly the kept documents, their text, in
 * shard order.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inValidation } from '../pipeline/core/split.js';
import type { Doc } from '../pipeline/core/schema.js';
import { SHARED_SKIP_REASON, cleanup, cli, cliOk, readDocs, sharedData, tempDir } from './helpers/cli.js';
import { python, pythonMissing } from './helpers/python.js';

const data = sharedData();
const missing = pythonMissing(['pyarrow', 'duckdb']);
const skip = !data ? SHARED_SKIP_REASON : missing;
const dir = tempDir();
afterAll(() => cleanup(dir));

interface Row {
  id: string;
  url: string | null;
  text: string | null;
  lang_score: number | null;
}
// The reader rounds float32 scores for display; Parquet holds the float32 itself.
const rowOf = (d: Doc): Row => ({ id: d.id, url: (d.url as string | null) ?? null, text: d.text ?? null, lang_score: typeof d.lang_score === 'number' ? Math.fround(d.lang_score) : null });

/** Every row of the Parquet files, read file by file in name order (pyarrow), and the files' properties. */
const PYARROW = `
import json, sys, pyarrow.parquet as pq
out = {"rows": [], "files": []}
for path in sys.argv[1:]:
    f = pq.ParquetFile(path)
    md = f.metadata
    out["files"].append({
        "rows": md.num_rows,
        "row_groups": md.num_row_groups,
        "codecs": sorted({md.row_group(g).column(c).compression for g in range(md.num_row_groups) for c in range(md.num_columns)}),
        "kv": {k.decode(): v.decode() for k, v in (f.schema_arrow.metadata or {}).items()},
        "types": {fld.name: str(fld.type) for fld in f.schema_arrow},
        "nullable": {fld.name: fld.nullable for fld in f.schema_arrow},
    })
    t = f.read(columns=["id", "url", "text", "lang_score"])
    out["rows"].extend(t.to_pylist())
print(json.dumps(out))
`;

const DUCKDB = `
import json, sys, duckdb
rows = duckdb.sql(f"select id, text from read_parquet('{sys.argv[1]}') order by id").fetchall()
print(json.dumps([list(r) for r in rows]))
`;

const parquetFiles = (d: string) => readdirSync(d).filter((n) => n.endsWith('.parquet')).sort().map((n) => join(d, n));
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe.skipIf(skip)(`export --format parquet and hf, read by pyarrow and DuckDB${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const text = join(dir, 'text');
  const sel = join(dir, 'sel');
  let all: Doc[] = [];
  const kept = (side: 'train' | 'validation') => all.filter((d) => (d.lang_score as number) >= 0.8 && inValidation(d.id, 0.2) === (side === 'validation'));

  beforeAll(async () => {
    const warcs = [join(data as string, 'cc-warc-resiliparse', 'CC-MAIN-2020-34-excerpt.part1.warc.gz'), join(data as string, 'warc-wget-dolma')];
    cliOk(['ingest', ...warcs, '-o', join(dir, 'raw'), '--progress', 'off']);
    cliOk(['extract', join(dir, 'raw'), '-o', text, '--progress', 'off']);
    cliOk(['select', text, '-o', sel, '--by', 'lang_score', '--min', '0.8', '--holdout', '20%', '--progress', 'off']);
    all = await readDocs(text);
  }, 120_000);

  it('writes zstd Parquet with the kept documents, their text, schema and metadata; polars and DuckDB read it natively', async () => {
    const out = join(dir, 'pq');
    cliOk(['export', join(sel, 'train'), '-o', out, '--format', 'parquet', '--row-group-rows', '4', '--progress', 'off']);
    const expected = kept('train');
    // Some documents were removed, so "exactly the kept ones" means something.
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(all.length - 5);
    expect((await readDocs(join(sel, 'train'))).map((d) => d.id).sort()).toEqual(expected.map((d) => d.id).sort());

    const files = parquetFiles(out);
    const read = python<{ rows: Row[]; files: { rows: number; row_groups: number; codecs: string[]; kv: Record<string, string>; types: Record<string, string>; nullable: Record<string, boolean> }[] }>(PYARROW, files);
    // Exactly the kept documents, in shard order.
    expect(read.rows).toEqual((await readDocs(join(sel, 'train'))).map(rowOf));
    expect(read.rows.map((r) => r.id).sort()).toEqual(expected.map((d) => d.id).sort());
    for (const f of read.files) {
      expect(f.row_groups).toBe(Math.ceil(f.rows / 4));
      if (f.rows > 0) expect(f.codecs).toEqual(['ZSTD']);
      expect(f.kv['refinery.schema_version']).toBe('1');
      expect(f.kv['refinery.stage']).toBe('select');
      expect(f.kv['refinery.export.stage']).toBe('export');
      expect(f.types).toMatchObject({ id: 'string', text: 'string', fetched_at: 'timestamp[ms, tz=UTC]', lang_score: 'float', http_status: 'int32' });
      expect(f.nullable.id).toBe(false);
      expect(f.types.html).toBeUndefined();
    }
    // polars (its Rust reader, through nodejs-polars) reads the same rows.
    const frames = files.map((f) => pl.readParquet(f));
    expect(frames.flatMap((f) => (f.height ? (f.getColumn('id').toArray() as string[]) : []))).toEqual(read.rows.map((r) => r.id));
    const duck = python<[string, string][]>(DUCKDB, [join(out, '*.parquet')]);
    expect(duck).toEqual(expected.map((d) => [d.id, d.text]).sort((a, b) => byId({ id: a[0] as string }, { id: b[0] as string })));
  }, 60_000);

  it('writes a Hugging Face dataset folder: data/<split>-0000i-of-0000n.parquet and a card with its YAML header and funnel', () => {
    const out = join(dir, 'hf');
    cliOk(['export', join(sel, 'train'), join(sel, 'validation'), '-o', out, '--format', 'hf', '--license', 'odc-by', '--progress', 'off']);
    const names = readdirSync(join(out, 'data')).sort();
    expect(names).toEqual(['train-00000-of-00002.parquet', 'train-00001-of-00002.parquet', 'validation-00000-of-00002.parquet', 'validation-00001-of-00002.parquet']);
    for (const side of ['train', 'validation'] as const) {
      const files = names.filter((n) => n.startsWith(`${side}-`)).map((n) => join(out, 'data', n));
      const read = python<{ rows: Row[] }>(PYARROW, files);
      expect(read.rows.map((r) => [r.id, r.text]).sort()).toEqual(kept(side).map((d) => [d.id, d.text]).sort());
    }
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    const [, yaml] = card.split(/^---$/m);
    const header = parse(yaml) as Record<string, unknown>;
    expect(header).toMatchObject({
      configs: [{ config_name: 'default', data_files: [{ split: 'train', path: 'data/train-*' }, { split: 'validation', path: 'data/validation-*' }] }],
      license: 'odc-by',
      size_categories: ['n<1K'],
    });
    expect(header.language).toContain('en');
    // The funnel and configs of the stages that made the data, followed back through manifests.
    for (const stage of ['ingest', 'extract', 'select']) expect(card).toMatch(new RegExp(`^\\*\\*${stage}\\*\\*`, 'm'));
    expect(card).toMatch(/"min": 0\.8/);
    expect(card).toContain(`| train | ${kept('train').length} |`);
    expect(card).toContain(`| validation | ${kept('validation').length} |`);
    // Rerun: same folder, no stale files.
    cliOk(['export', join(sel, 'train'), join(sel, 'validation'), '-o', out, '--format', 'hf', '--license', 'odc-by', '--progress', 'off']);
    expect(readdirSync(join(out, 'data')).sort()).toEqual(names);
  }, 60_000);

  const noDatasets = skip ? null : pythonMissing(['datasets']);
  it.skipIf(noDatasets)(`Hugging Face datasets loads the folder by its card: both splits, exactly the kept documents${noDatasets ? ` (skipped: ${noDatasets})` : ''}`, () => {
    const out = join(dir, 'hf');
    if (!existsSync(join(out, 'README.md'))) cliOk(['export', join(sel, 'train'), join(sel, 'validation'), '-o', out, '--format', 'hf', '--progress', 'off']);
    const LOAD = `
import json, os, sys
os.environ["HF_HUB_OFFLINE"] = "1"; os.environ["HF_DATASETS_OFFLINE"] = "1"; os.environ["HF_HOME"] = sys.argv[2]
from datasets import load_dataset
ds = load_dataset(sys.argv[1])
print(json.dumps({split: [[r["id"], r["text"]] for r in ds[split]] for split in ds}))
`;
    const read = python<Record<string, [string, string][]>>(LOAD, [out, join(dir, 'hf-home')]);
    expect(Object.keys(read).sort()).toEqual(['train', 'validation']);
    for (const side of ['train', 'validation'] as const) expect(read[side].sort()).toEqual(kept(side).map((d) => [d.id, d.text]).sort());
  }, 120_000);

  it('refuses --format hf with only a validation split', () => {
    const r = cli(['export', join(sel, 'validation'), '-o', join(dir, 'hf-bad'), '--format', 'hf']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/every input is a validation split/);
    expect(existsSync(join(dir, 'hf-bad', 'data'))).toBe(false);
  });
});
