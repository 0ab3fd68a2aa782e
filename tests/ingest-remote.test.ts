/** Ingest over HTTP: Common Crawl's layout, its index, and a flaky server, all on 127.0.0.1. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { readTaskStats } from '../pipeline/core/stats.js';
import { ingestOptions, ingestStage } from '../pipeline/ingest/index.js';
import { startCcServer, readLines, type CcServer } from './helpers/cc-server.js';
import { cleanup, cli, cliAsync, expectAccounting, readDocs, sharedData, tempDir } from './helpers/cli.js';

const CRAWL = 'CC-MAIN-2099-01';
const dir = tempDir();
const web = join(dir, 'web');
const data = sharedData();
let files: { path: string; file: string }[];
let reference: Map<string, { url: unknown; html: unknown; text: unknown }>;
let pages: PageTruth[];
const servers: CcServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  cleanup(dir);
});

const key = (docs: Awaited<ReturnType<typeof readDocs>>) => new Map(docs.map((d) => [d.id, { url: d.url, html: d.html, text: d.text }]));

beforeAll(async () => {
  expect(cli(['sample-web', '-o', web, '--pages', '400', '--pages-per-file', '150', '--seed', '3']).code).toBe(0);
  const local = [0, 1, 2].map((i) => join(web, `sample-web-0000${i}.warc.gz`));
  // A real WARC/0.17 file from an old Heritrix crawl joins them when the shared data is here.
  if (data) local.push(join(data, 'warc-ia-2008-aut', 'IAH-20080430204825-00000-blackbook.part1.warc.gz'));
  files = local.map((file, i) => ({ path: `crawl-data/${CRAWL}/segments/100.${i}/warc/${file.split('/').pop()}`, file }));
  const out = join(dir, 'local');
  const r = cli(['ingest', ...local, '-o', out]);
  expect(r.code, r.stderr).toBe(0);
  reference = key(await readDocs(out));
  pages = readLines(join(web, 'pages.jsonl')).map((l) => JSON.parse(l) as PageTruth);
}, 60_000);

async function server(flaky?: { seed: number; drop: number; error: number; slow: number }) {
  const s = await startCcServer({
    crawl: CRAWL,
    files,
    warcPaths: files.map((f) => f.path),
    captures: pages.map((p) => ({ url: p.url, filename: files[Number(p.file.match(/\d+/)?.[0])].path, offset: p.offset, length: p.length, status: p.status, mime: p.content_type || 'unk' })),
    pageSize: 10,
    flaky,
  });
  servers.push(s);
  return s;
}

describe('ingest over HTTP', () => {
  it('reads a crawl by its paths listing, exactly as from local files', async () => {
    const s = await server();
    const out = join(dir, 'clean');
    const r = await cliAsync(['ingest', '--cc', CRAWL, '--files', String(files.length), '--cc-base', s.url, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    await expectAccounting(out);
    const docs = await readDocs(out);
    expect(key(docs)).toEqual(reference);
    expect(docs[0].source).toMatch(new RegExp(`^${s.url}/crawl-data/${CRAWL}/segments/100\\.0/warc/sample-web-00000\\.warc\\.gz@\\d+$`));
  });

  it('gets the same documents through a server that drops connections, answers 503 and drips', async () => {
    const s = await server({ seed: 11, drop: 0.5, error: 0.3, slow: 0.2 });
    const out = join(dir, 'flaky');
    const r = await cliAsync(['ingest', '--cc', CRAWL, '--files', String(files.length), '--cc-base', s.url, '-o', out, '--http-timeout', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(s.stats.dropped).toBeGreaterThan(0);
    expect(s.stats.errors).toBeGreaterThan(0);
    expect(s.stats.ranged).toBeGreaterThan(0); // resumed with Range after the drops
    await expectAccounting(out);
    expect(key(await readDocs(out))).toEqual(reference);
    expect(readTaskStats(out).reduce((n, t) => n + (t.counters['http:retries'] ?? 0), 0)).toBeGreaterThan(0);
  }, 60_000);

  it('takes a slice of the listing with --files and --skip, and plain URLs as inputs', async () => {
    const s = await server();
    const out = join(dir, 'slice');
    expect((await cliAsync(['ingest', '--cc', CRAWL, '--files', '1', '--skip', '1', '--cc-base', s.url, '-o', out])).code).toBe(0);
    const docs = await readDocs(out);
    expect(new Set(docs.map((d) => (d.source as string).split('@')[0].split('/').pop()))).toEqual(new Set(['sample-web-00001.warc.gz']));
    const direct = join(dir, 'direct');
    expect((await cliAsync(['ingest', `${s.url}/${files[1].path}`, '-o', direct])).code).toBe(0);
    expect(key(await readDocs(direct))).toEqual(key(docs));
  });

  it('fetches only the captures an index query returns, by byte range', async () => {
    const s = await server({ seed: 5, drop: 0.2, error: 0.2, slow: 0 });
    const out = join(dir, 'cdx');
    const r = await cliAsync(['ingest', '--cc-index', `${s.url}/cc-index`, '--url-pattern', '*.fulton-herald.example', '--cc-base', s.url, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const totals = await expectAccounting(out);
    const expected = pages.filter((p) => p.site.endsWith('fulton-herald.example') && p.status === 200 && p.content_type === 'text/html');
    expect(expected.length).toBeGreaterThan(5);
    const docs = await readDocs(out);
    expect(docs.map((d) => d.id).sort()).toEqual(expected.map((p) => p.record_id).sort());
    for (const d of docs) expect(d.html).toBe(reference.get(d.id)?.html);
    expect(totals.tasks).toBeGreaterThan(1); // one task per page of the index's answer
  }, 60_000);

  it('fails a task with a clear error when a file is missing', async () => {
    const s = await server();
    const out = join(dir, 'missing');
    const r = await cliAsync(['ingest', `${s.url}/crawl-data/${CRAWL}/nope.warc.gz`, '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/task 0 failed: .*nope\.warc\.gz: .*HTTP 404/);
  });
});

describe('endless HTTP bodies (issue 24, item 8)', () => {
  it('a body that is not an archive fails its task within its first MiB; an endless archive at --http-max-size', async () => {
    const record = Buffer.from('WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: https://example.com/\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n');
    const chunks = { text: Buffer.from('all work and no play makes jack a dull boy\n'.repeat(2000)), warc: Buffer.concat(Array(500).fill(record)) };
    const served = { text: 0, warc: 0 };
    const endless = createServer((req, res) => {
      const kind = req.url?.includes('.txt') ? 'text' : 'warc';
      res.writeHead(200, { 'content-type': kind === 'text' ? 'text/plain' : 'application/warc' });
      res.on('error', () => {});
      const write = () => {
        while (!res.destroyed) {
          served[kind] += chunks[kind].length;
          if (!res.write(chunks[kind])) return;
        }
      };
      res.on('drain', write);
      write();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(endless.address() as AddressInfo).port}`;
    try {
      const text = await cliAsync(['ingest', `${base}/endless.txt`, '-o', join(dir, 'endless-text'), '--progress', 'off']);
      expect(text.code, text.stderr).toBe(1);
      expect(text.stderr).toMatch(/task 0 failed: .*endless\.txt: not a WARC, ARC or WET file: no record starts in its first 1024 KiB/);
      expect(served.text).toBeLessThan(64 << 20);

      const warc = await cliAsync(['ingest', `${base}/endless.warc`, '-o', join(dir, 'endless-warc'), '--http-max-size', '4MiB', '--progress', 'off']);
      expect(warc.code, warc.stderr).toBe(1);
      expect(warc.stderr).toMatch(/task 0 failed: .*endless\.warc: more than 4194304 bytes; stopped reading \(--http-max-size\)/);
      expect(served.warc).toBeLessThan(64 << 20);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  }, 120_000);
});

describe.skipIf(!data)('real Common Crawl path listings from ../shared/data', () => {
  it('resolves a slice of a crawl listing and of a DCLM s3:// listing to mirror URLs', async () => {
    const root = join(data as string, 'cc-index-paths');
    const s = await startCcServer({ crawl: 'CC-MAIN-2024-22', files: [{ path: 'crawl-data/CC-MAIN-2024-22/warc.paths.gz', file: join(root, 'CC-MAIN-2024-22.warc.paths.gz') }] });
    servers.push(s);
    const listed = gunzipSync(readFileSync(join(root, 'CC-MAIN-2024-22.warc.paths.gz'))).toString().trim().split('\n');
    expect(listed).toHaveLength(300);
    const fromCrawl = await ingestStage.resolveInputs?.(ingestOptions.parse({ cc: 'CC-MAIN-2024-22', files: 3, skip: 10, cc_base: s.url }), []);
    expect(fromCrawl).toEqual(listed.slice(10, 13).map((p) => `${s.url}/${p}`));
    const dclm = readFileSync(join(root, 'dclm-400m-1x.even-lines.txt'), 'utf8').trim().split('\n');
    expect(dclm[0]).toMatch(/^s3:\/\/commoncrawl\/crawl-data\//);
    const fromPaths = await ingestStage.resolveInputs?.(ingestOptions.parse({ paths: join(root, 'dclm-400m-1x.even-lines.txt'), files: 2, cc_base: 'https://mirror.example' }), []);
    expect(fromPaths).toEqual(dclm.slice(0, 2).map((p) => p.replace('s3://commoncrawl/', 'https://mirror.example/')));
  });
});
