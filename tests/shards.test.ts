import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../pipeline/core/errors.js';
import { COMPRESSIONS, type Compression } from '../pipeline/core/compression.js';
import { CORE_COLUMNS, META, attachUtf8, type ColumnSpec, type Doc } from '../pipeline/core/schema.js';
import { listShards, openShard } from '../pipeline/core/shard-reader.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { cleanup, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
afterAll(() => cleanup(dir));

const COLUMNS: ColumnSpec[] = [
  ...CORE_COLUMNS,
  { name: 'pii_email_count', type: 'int32' },
  { name: 'dedup_cluster', type: 'int64' },
  { name: 'quality_score', type: 'float64' },
  { name: 'is_hq', type: 'bool' },
];

function sampleDocs(n: number): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < n; i++) {
    docs.push({
      id: `doc-${i}`,
      url: i % 3 === 0 ? null : `https://example.org/${i}`,
      source: `crawl.warc.gz@${i * 1000}`,
      fetched_at: i % 4 === 0 ? null : Date.UTC(2024, 0, 1 + (i % 28), 12, 30),
      content_type: 'text/html',
      // Non-Latin scripts, emoji, an empty string and long texts all survive the trip.
      text: i === 5 ? '' : `Document ${i}: naïve café, 日本語のテキスト, кириллица, emoji 🚀🎉. ${'x'.repeat(i * 37)}`,
      lang: i % 2 ? 'en' : null,
      lang_score: i % 2 ? 0.5 + i / 1000 : null,
      pii_email_count: i % 5 === 0 ? null : i,
      dedup_cluster: i * 1_000_003,
      quality_score: i / 7,
      is_hq: i % 6 === 0 ? null : i % 2 === 0,
    });
  }
  return docs;
}

function writeShard(name: string, docs: Doc[], opts: { maxPartBytes?: number; batchRows?: number; compression?: Compression } = {}, metadata: Record<string, string> = { [META.schemaVersion]: '1', [META.stage]: 'test' }): string[] {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const w = new ShardWriter({ dir: out, base: 'part-00000', columns: COLUMNS, metadata, ...opts });
  for (const d of docs) w.write({ ...d });
  return w.publish();
}

describe('shard writer and reader', () => {
  it('round-trips every column type, nulls and unicode exactly', async () => {
    const docs = sampleDocs(200);
    const files = writeShard('roundtrip', docs, { batchRows: 64 });
    expect(files).toHaveLength(1);
    const back = await readDocs(files[0]);
    expect(back).toHaveLength(docs.length);
    for (let i = 0; i < docs.length; i++) {
      const { lang_score, ...rest } = back[i];
      const { lang_score: expectedScore, ...expected } = docs[i];
      expect(rest).toEqual(expected);
      if (expectedScore === null) expect(lang_score).toBeNull();
      else expect(lang_score).toBeCloseTo(expectedScore as number, 6);
    }
    const shard = await openShard(files[0]);
    expect(shard.batches).toBe(Math.ceil(200 / 64));
    expect(shard.metadata.get(META.stage)).toBe('test');
    await shard.close();
  });

  it('rolls to a new part at the size limit and keeps every document once, in order', async () => {
    const docs = sampleDocs(300);
    // The limit counts bytes on disk; uncompressed, these documents fill several parts.
    const files = writeShard('rolling', docs, { maxPartBytes: 64 * 1024, batchRows: 16, compression: 'none' });
    expect(files.length).toBeGreaterThan(2);
    expect(files.map((f) => f.split('/').pop())).toEqual(files.map((_, i) => `part-00000-${String(i).padStart(4, '0')}.arrow`));
    const back = await readDocs(join(dir, 'rolling'));
    expect(back.map((d) => d.id)).toEqual(docs.map((d) => d.id));
  });

  it('keeps every text exact when batches of tens of MB are handed to Arrow without a copy', async () => {
    // Big texts (past the builder's hand-over size, multi-byte characters included) between small ones, so a
    // handed-over buffer is followed by a fresh one and by the copied, reused one.
    const big = (n: number, fill: string) => `${fill.repeat(n)}é${'日本'.repeat(1000)}`;
    const docs = sampleDocs(6);
    docs[1].text = big(20e6, 'a');
    docs[3].text = big(9e6, 'ü'); // 18 MB in UTF-8 from 9 M characters
    const files = writeShard('hand-over', docs);
    const back = await readDocs(files[0]);
    expect(back.map((d) => d.id)).toEqual(docs.map((d) => d.id));
    for (let i = 0; i < docs.length; i++) expect(back[i].text === docs[i].text, `text of ${docs[i].id}`).toBe(true);
  });

  it('writes UTF-8 bytes a reader attached in place of encoding the text, and never stale ones', async () => {
    const docs = sampleDocs(4);
    const big = `${'b'.repeat(17e6)}é`;
    docs[0].text = big; // first in its batch and over the hand-over size: its bytes become the batch's buffer
    docs[2].text = 'short ü';
    const out = join(dir, 'utf8');
    mkdirSync(out, { recursive: true });
    const w = new ShardWriter({ dir: out, base: 'part-00000', columns: COLUMNS, metadata: { [META.schemaVersion]: '1', [META.stage]: 'test' } });
    const copies = docs.map((d) => ({ ...d }));
    attachUtf8(copies[0], 'text', Buffer.from(big));
    attachUtf8(copies[2], 'text', Buffer.from('short ü'));
    attachUtf8(copies[3], 'text', Buffer.from('stale bytes'));
    copies[3].text = 'replaced by a step'; // the attached bytes no longer match: the string is encoded
    for (const d of copies) w.write(d);
    const back = await readDocs(w.publish()[0]);
    expect(back.map((d) => d.text)).toEqual([big, docs[1].text, 'short ü', 'replaced by a step']);
  });

  it('shows nothing under a final name until publish, and abort leaves nothing', () => {
    const out = join(dir, 'atomic');
    mkdirSync(out);
    const w = new ShardWriter({ dir: out, base: 'part-00007', columns: COLUMNS, metadata: {}, batchRows: 8, maxPartBytes: 4096 });
    for (const d of sampleDocs(100)) w.write(d);
    const visible = () => readdirSync(out).filter((n) => !n.startsWith('.'));
    expect(visible()).toEqual([]);
    expect(readdirSync(out).length).toBeGreaterThan(0);
    w.abort();
    expect(readdirSync(out)).toEqual([]);
  });

  it('writes byte-identical files for identical input', () => {
    const a = writeShard('det-a', sampleDocs(120), { batchRows: 50 });
    const b = writeShard('det-b', sampleDocs(120), { batchRows: 50 });
    expect(readFileSync(a[0]).equals(readFileSync(b[0]))).toBe(true);
  });

  it('is readable by an independent Arrow implementation (nodejs-polars)', () => {
    const docs = sampleDocs(50);
    const [file] = writeShard('polars', docs, { batchRows: 16 });
    // nodejs-polars treats a path without an .ipc extension as inline data, so pass the bytes.
    const df = pl.readIPC(readFileSync(file));
    expect(df.height).toBe(50);
    expect(df.columns).toEqual(COLUMNS.map((c) => c.name));
    expect(df.getColumn('id').toArray()).toEqual(docs.map((d) => d.id));
    expect(df.getColumn('text').toArray()).toEqual(docs.map((d) => d.text));
    expect(df.getColumn('dedup_cluster').toArray().map(Number)).toEqual(docs.map((d) => d.dedup_cluster));
    expect(df.getColumn('is_hq').toArray()).toEqual(docs.map((d) => d.is_hq));
    expect(String(df.getColumn('fetched_at').dtype)).toContain('Datetime');
    expect(df.getColumn('url').nullCount()).toBe(docs.filter((d) => d.url === null).length);
    // The lazy reader scans a directory of parts with a glob, as users do.
    const lazy = pl.scanIPC(join(dir, 'polars', '*.arrow')).select('id').collectSync();
    expect(lazy.height).toBe(50);
  });

  it('compresses with zstd by default, lz4 or none on request, and reads each back exactly', async () => {
    const docs = sampleDocs(300);
    const sizes: Record<string, number> = {};
    for (const compression of COMPRESSIONS) {
      const [file] = writeShard(`codec-${compression}`, docs, { batchRows: 64, compression });
      sizes[compression] = statSync(file).size;
      const back = await readDocs(file);
      expect(back.map((d) => d.text)).toEqual(docs.map((d) => d.text));
      expect(back.map((d) => d.dedup_cluster)).toEqual(docs.map((d) => d.dedup_cluster));
      expect(back.map((d) => d.is_hq)).toEqual(docs.map((d) => d.is_hq));
      // Every Arrow reader must get the same values: polars decodes the bodies itself.
      const df = pl.readIPC(readFileSync(file));
      expect(df.getColumn('text').toArray()).toEqual(docs.map((d) => d.text));
      expect(df.getColumn('url').nullCount()).toBe(docs.filter((d) => d.url === null).length);
    }
    const [byDefault] = writeShard('codec-default', docs, { batchRows: 64 });
    expect(readFileSync(byDefault).equals(readFileSync(join(dir, 'codec-zstd', 'part-00000-0000.arrow')))).toBe(true);
    expect(sizes.lz4).toBeLessThan(sizes.none / 2);
    expect(sizes.zstd).toBeLessThan(sizes.lz4);
  });

  it('lists parts in a deterministic order and ignores temporary files', async () => {
    const out = join(dir, 'listing');
    mkdirSync(out);
    for (const name of ['part-00002-0000.arrow', 'part-00000-0001.arrow', 'part-00000-0000.arrow', '.part-00003-0000.arrow.tmp']) {
      writeFileSync(join(out, name), '');
    }
    expect((await listShards(out)).map((f) => f.split('/').pop())).toEqual(['part-00000-0000.arrow', 'part-00000-0001.arrow', 'part-00002-0000.arrow']);
  });
});

describe('reader errors name the file and the problem', () => {
  const expectUserError = async (file: string, pattern: RegExp) => {
    const err = await openShard(file).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(pattern);
    expect((err as Error).message).toContain(file);
  };

  it('rejects a file that is not Arrow', async () => {
    const file = join(dir, 'not-arrow.arrow');
    writeFileSync(file, '{"id": 1, "text": "json, not arrow"}\n');
    await expectUserError(file, /not an Arrow IPC file/);
  });

  it('rejects a truncated shard (a writer killed before its footer)', async () => {
    const [file] = writeShard('truncated', sampleDocs(40));
    const bytes = readFileSync(file);
    const cut = join(dir, 'cut.arrow');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectUserError(cut, /truncated Arrow IPC file/);
  });

  it('rejects a shard of another schema version', async () => {
    const [file] = writeShard('v2', sampleDocs(3), {}, { [META.schemaVersion]: '2' });
    await expectUserError(file, /schema version 2; this refinery reads version 1/);
  });

  it('rejects a missing file', async () => {
    await expectUserError(join(dir, 'nope.arrow'), /cannot open/);
    expect(existsSync(join(dir, 'nope.arrow'))).toBe(false);
  });
});
