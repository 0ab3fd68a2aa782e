/** The polite crawler against local sites full of traps, then its WARC files through ingest. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrawlStats } from '../pipeline/crawl/index.js';
import { readArchive } from '../pipeline/warc/archive.js';
import { ByteReader } from '../pipeline/warc/byte-reader.js';
import { cleanup, cliAsync, expectAccounting, readDocs, tempDir } from './helpers/cli.js';
import { closedSite, startSite, trapSite, wideSite, type Hit, type Site } from './helpers/site-server.js';

const dir = tempDir();
const hits: Hit[] = [];
let main: Site;
let closed: Site;
let wide: Site;
let stats: CrawlStats;
const out = join(dir, 'crawl');
const DELAY = 0.3;

beforeAll(async () => {
  closed = await startSite(() => closedSite(), hits);
  main = await startSite(trapSite(() => closed.url), hits);
  wide = await startSite(() => wideSite(), hits);
  const seeds = join(dir, 'seeds.txt');
  writeFileSync(seeds, `# test seeds\n${main.url}/\n${wide.url}/\n`);
  const r = await cliAsync([
    'crawl', '--seeds', seeds, '-o', out, '--allow-private', '--delay', String(DELAY), '--max-depth', '3',
    '--follow', 'allow-list', '--allow-hosts', closed.host, '--max-response-size', '1MiB', '--page-timeout', '2', '--read-timeout', '1',
  ]);
  expect(r.code, r.stderr).toBe(0);
  stats = JSON.parse(readFileSync(join(out, '_crawl.json'), 'utf8')) as CrawlStats;
}, 60_000);

afterAll(async () => {
  await Promise.all([main, closed, wide].map((s) => s?.close()));
  cleanup(dir);
});

const paths = (site: Site) => hits.filter((h) => h.host === site.host).map((h) => h.path);

describe('refinery crawl', () => {
  it('obeys robots.txt, for every agent and for its own token', () => {
    expect(paths(main)).not.toContain('/private/secret');
    expect(paths(closed)).toEqual(['/robots.txt']);
    expect(stats.skipped.robots).toBeGreaterThanOrEqual(2);
  });

  it('waits the per-host delay between requests to one host', () => {
    const times = hits.filter((h) => h.host === wide.host && h.path !== '/robots.txt').map((h) => h.at);
    expect(times.length).toBe(9);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(DELAY * 1000 * 0.95);
  });

  it('stops at the depth limit and follows only allowed hosts', () => {
    expect(paths(main)).toContain('/deep');
    expect(paths(main)).not.toContain('/deeper');
  });

  it('ends a redirect loop, a huge body, a slow drip and a gzip bomb within its limits', () => {
    expect(paths(main).filter((p) => p === '/loop' || p === '/loop2').length).toBeLessThanOrEqual(2);
    expect((stats.skipped['redirect-to-seen'] ?? 0) + (stats.skipped['redirect-limit'] ?? 0)).toBeGreaterThanOrEqual(2);
    expect(stats.truncated.length).toBeGreaterThanOrEqual(1);
    expect((stats.truncated.time ?? 0) + (stats.errors.timeout ?? 0)).toBeGreaterThanOrEqual(1);
    expect(stats.errors['links-too-large']).toBe(1);
    expect(stats.skipped['content-type']).toBe(1);
    // Memory stays bounded: the 64 MiB body and the 256 MiB bomb were never held whole.
    expect(stats.peak_rss_mb).toBeLessThan(400);
  });

  it('writes standard WARC files that ingest reads like any archive', async () => {
    const records: { type: string; uri?: string; truncated?: string; length: number }[] = [];
    for (const file of stats.warc_files) {
      const it = readArchive(ByteReader.fromFile(join(out, file)), { want: () => true, maxContent: 8 << 20, maxMember: 64 << 20, onDamage: (w, r) => records.push({ type: `damage ${w} ${r}`, length: 0 }) });
      for await (const r of it) records.push({ type: r.type, uri: r.headers.get('warc-target-uri'), truncated: r.headers.get('warc-truncated'), length: r.contentLength });
    }
    expect(records.filter((r) => r.type.startsWith('damage'))).toEqual([]);
    expect(records.filter((r) => r.type === 'response').length).toBe(stats.responses);
    expect(records.filter((r) => r.type === 'request').length).toBe(stats.responses);
    const huge = records.find((r) => r.type === 'response' && r.uri?.endsWith('/huge'));
    expect(huge?.truncated).toBe('length');
    expect(huge?.length).toBeLessThan((1 << 20) + 2048);

    const raw = join(dir, 'raw');
    const r = await cliAsync(['ingest', out, '-o', raw]);
    expect(r.code, r.stderr).toBe(0);
    await expectAccounting(raw);
    const docs = await readDocs(raw);
    const urls = docs.map((d) => d.url as string);
    expect(urls).toContain(`${main.url}/`);
    expect(urls).toContain(`${main.url}/gzipped`);
    expect(docs.find((d) => d.url === `${main.url}/gzipped`)?.html).toContain('A page sent gzip-encoded.');
  });

  it('refuses private addresses unless allowed', async () => {
    const seeds = join(dir, 'private-seeds.txt');
    writeFileSync(seeds, `${main.url}/\n`);
    const r = await cliAsync(['crawl', '--seeds', seeds, '-o', join(dir, 'refused')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`refinery: seed ${main.url}/ refused: 127.0.0.1 is a private address`);
    const refused = JSON.parse(readFileSync(join(dir, 'refused', '_crawl.json'), 'utf8')) as CrawlStats;
    expect(refused.responses).toBe(0);
    expect(refused.refused['private-address']).toBe(1);
  });

  it('rejects a bad seeds file with a clear message', async () => {
    const seeds = join(dir, 'bad-seeds.txt');
    writeFileSync(seeds, 'http://ok.example/\nftp://nope.example/\n');
    const r = await cliAsync(['crawl', '--seeds', seeds, '-o', join(dir, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`refinery: ${seeds}:2: not an http(s) URL: "ftp://nope.example/"`);
  });
});
