/**
 * Issue 24, items 3 and 4, through the real CLI: a stage refuses inputs without the columns it
 * reads (pii over raw HTML shards would otherwise pass personal data through), and a task
 * whose input was rewritten by an upstream rerun runs again instead of being "already done".
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_COLUMNS, SCHEMA_VERSION } from '../pipeline/core/schema.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { cleanup, cli, cliOk, expectAccounting, readDocs, tempDir } from './helpers/cli.js';

const dir = tempDir();
const raw = join(dir, 'raw');
const text = join(dir, 'text');
beforeAll(() => {
  cliOk(['sample-web', '-o', join(dir, 'web'), '--pages', '160', '--seed', '11', '--pages-per-file', '40']);
  cliOk(['ingest', join(dir, 'web'), '-o', raw, '--progress', 'off']);
  cliOk(['extract', raw, '-o', text, '--progress', 'off']);
}, 120_000);
afterAll(() => cleanup(dir));

const quiet = ['--progress', 'off'];

describe('stages refuse inputs without the columns they read', () => {
  it('pii over raw HTML shards (text all null) is refused before any task, naming extract, and writes no shard', () => {
    const out = join(dir, 'pii-raw');
    const r = cli(['pii', raw, '-o', out, ...quiet]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^refinery: pii: the "text" column is null in every input shard; pii reads it \(refinery extract writes it from raw HTML.*run one of them first\)\n$/);
    expect(() => readdirSync(out).filter((n) => n.endsWith('.arrow'))).toThrow();
  });

  it('a shard with no text column at all is refused for pii, quality, dedup minhash and dedup lines', () => {
    const noText = join(dir, 'no-text');
    mkdirSync(noText, { recursive: true });
    const w = new ShardWriter({ dir: noText, base: 'part-00000', columns: CORE_COLUMNS.filter((c) => c.name !== 'text'), metadata: { 'refinery.schema_version': String(SCHEMA_VERSION) } });
    w.write({ id: 'a', url: 'https://example.com/a' });
    w.publish();
    for (const args of [['pii'], ['quality', 'filter'], ['dedup', 'minhash'], ['dedup', 'lines']]) {
      const r = cli([...args, noText, '-o', join(dir, `out-${args.join('-')}`), ...quiet]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/part-00000-0000\.arrow: has no "text" column, which \S+ reads \(refinery extract writes it/);
    }
    // Exact dedup by URL alone does not read text.
    cliOk(['dedup', 'exact', noText, '-o', join(dir, 'by-url'), '--exact-keys', 'url', ...quiet]);
  });

  it('an input whose documents were all excluded upstream is not refused: nothing to read', () => {
    const empty = join(dir, 'empty');
    cliOk(['extract', raw, '-o', empty, '--min-text-chars', '100000000', ...quiet]);
    const r = cliOk(['pii', empty, '-o', join(dir, 'pii-empty'), ...quiet]);
    expect(r.stderr).toMatch(/pii: 0 docs in, 0 kept, 0 excluded/);
  });
});

describe('an upstream rerun makes the downstream tasks that read its old shards run again', () => {
  it('extract, pii, extract again with another --min-text-chars and --overwrite, pii again: no document upstream now excludes stays downstream', async () => {
    const up = join(dir, 'up');
    const down = join(dir, 'down');
    cliOk(['extract', raw, '-o', up, ...quiet]);
    cliOk(['pii', up, '-o', down, ...quiet]);
    const before = await readDocs(up);
    cliOk(['extract', raw, '-o', up, '--min-text-chars', '1500', '--overwrite', ...quiet]);
    const upIds = new Set((await readDocs(up)).map((d) => d.id));
    expect(upIds.size).toBeLessThan(before.length);
    const again = cliOk(['pii', up, '-o', down, ...quiet]);
    expect(again.stderr).toMatch(/pii: \d+ inputs changed since their tasks ran \(.*\): running again/);
    expect(again.stderr).not.toMatch(/already done/);
    const totals = await expectAccounting(down);
    expect(totals.docs_in).toBe(upIds.size);
    for (const d of await readDocs(down)) expect(upIds.has(d.id), d.id).toBe(true);
    // Unchanged inputs: everything is done.
    expect(cliOk(['pii', up, '-o', down, ...quiet]).stderr).toMatch(/0 to run, \d+ already done/);
  }, 120_000);
});
