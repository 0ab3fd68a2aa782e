/**
 * The crawler's follow policy and address guard against a hostile site, through the real CLI:
 * redirects of pages and of robots.txt to cloud metadata, to private ranges (plain, NAT64 and
 * IPv4-mapped), to hosts outside --follow, to other schemes; --allow-private as a list; and
 * refused seeds making exit code 2. The private targets are never connected to: the guard
 * refuses them first (a connection attempt would show up as a connection error or timeout).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrawlStats } from '../pipeline/crawl/index.js';
import { cleanup, cliAsync, tempDir } from './helpers/cli.js';
import { startSite, type Hit, type Site } from './helpers/site-server.js';

const dir = tempDir();
const hits: Hit[] = [];
let seed: Site;
let outside: Site;
const robotsSites: Record<string, Site> = {};

const METADATA = 'http://169.254.169.254';
const TEN = 'http://10.0.0.1';
const NAT64 = 'http://[64:ff9b::a9fe:a9fe]'; // 169.254.169.254 through NAT64
const MAPPED = 'http://[::ffff:10.0.0.1]'; // 10.0.0.1, IPv4-mapped
const COMPAT = 'http://[::7f00:2]'; // 127.0.0.2, IPv4-compatible
const privateHosts = [METADATA, TEN, NAT64, MAPPED, COMPAT].map((u) => new URL(u).host);

const redirect = (to: () => string) => (res: import('node:http').ServerResponse) => res.writeHead(302, { location: to() }).end();
const html = (body: string) => (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end(body);

beforeAll(async () => {
  outside = await startSite(() => ({ '/': html('<p>outside</p>'), '/robots.txt': (res) => res.writeHead(200).end('User-agent: *\nAllow: /\n') }), hits);
  seed = await startSite(
    () => ({
      '/robots.txt': (res) => res.writeHead(404).end(),
      '/': html('<p>home</p>'),
      '/to-metadata': redirect(() => `${METADATA}/latest/meta-data/`),
      '/to-ten': redirect(() => `${TEN}/admin`),
      '/to-nat64': redirect(() => `${NAT64}/latest/meta-data/`),
      '/to-mapped': redirect(() => `${MAPPED}/`),
      '/to-compat': redirect(() => `${COMPAT}/`),
      '/to-outside': redirect(() => `${outside.url}/`),
      '/to-file': redirect(() => 'file:///etc/passwd'),
      '/to-self': redirect(() => '/'),
    }),
    hits,
  );
  const robotsTo = async (name: string, target: (site: Site) => string) => {
    robotsSites[name] = await startSite((site) => ({ '/robots.txt': redirect(() => target(site)), '/': html('<p>page</p>'), '/secret': html('<p>secret</p>') }), hits);
  };
  await robotsTo('metadata', () => `${METADATA}/robots.txt`);
  await robotsTo('ten', () => `${TEN}/robots.txt`);
  await robotsTo('outside', () => `${outside.url}/robots.txt`);
  robotsSites.own = await startSite(
    () => ({ '/robots.txt': redirect(() => '/real-robots.txt'), '/real-robots.txt': (res) => res.writeHead(200).end('User-agent: *\nDisallow: /secret\n'), '/': html('<a href="/secret">s</a>'), '/secret': html('<p>secret</p>') }),
    hits,
  );
}, 30_000);

afterAll(async () => {
  await Promise.all([seed, outside, ...Object.values(robotsSites)].map((s) => s?.close()));
  cleanup(dir);
});

const paths = (site: Site) => hits.filter((h) => h.host === site.host).map((h) => h.path);
const common = ['--delay', '0', '--connect-timeout', '2', '--page-timeout', '3', '--max-depth', '1'];

async function crawl(name: string, seeds: string[], flags: string[]) {
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, `${seeds.join('\n')}\n`);
  const out = join(dir, name);
  const r = await cliAsync(['crawl', '--seeds', file, '-o', out, ...common, ...flags]);
  let stats: CrawlStats | undefined;
  try {
    stats = JSON.parse(readFileSync(join(out, '_crawl.json'), 'utf8')) as CrawlStats;
  } catch {
    // no stats: the crawl stopped before crawling
  }
  return { ...r, stats };
}

describe('refinery crawl: redirects and private addresses', () => {
  it('refuses page redirects to private addresses, even to hosts --follow allows', async () => {
    const paths_ = ['/to-metadata', '/to-ten', '/to-nat64', '/to-mapped', '/to-compat'];
    const r = await crawl('to-private', paths_.map((p) => `${seed.url}${p}`), ['--allow-private', '127.0.0.1', '--follow', 'allow-list', '--allow-hosts', privateHosts.join(',')]);
    expect(r.code, r.stderr).toBe(0);
    const stats = r.stats as CrawlStats;
    expect(stats.responses).toBe(5); // the five 302s, nothing behind them
    expect(stats.statuses).toEqual({ '302': 5 });
    expect(stats.refused).toEqual({ 'redirect-private-address': 5 });
    expect(stats.errors).toEqual({});
    expect(Object.keys(stats.requests_per_host)).toEqual([seed.host]);
    expect(r.stdout).toContain('refused: redirect-private-address 5');
  });

  it('refuses page redirects outside --follow and to other schemes', async () => {
    const r = await crawl('to-outside', [`${seed.url}/to-outside`, `${seed.url}/to-file`, `${seed.url}/to-self`, `${seed.url}/to-metadata`], ['--allow-private', '127.0.0.1']);
    expect(r.code, r.stderr).toBe(0);
    const stats = r.stats as CrawlStats;
    expect(stats.refused).toEqual({ 'redirect-not-followed': 2, 'redirect-not-http': 1 });
    expect(paths(outside)).toEqual([]);
    // A redirect within the host is followed as before.
    expect(stats.statuses).toEqual({ '200': 1, '302': 4 });
  });

  it('--follow none still follows a redirect on the same host, and no other', async () => {
    const r = await crawl('follow-none', [`${seed.url}/to-self`, `${seed.url}/to-outside`], ['--allow-private', '127.0.0.1', '--follow', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stats?.refused).toEqual({ 'redirect-not-followed': 1 });
    expect(r.stats?.statuses).toEqual({ '200': 1, '302': 2 });
    expect(paths(outside)).toEqual([]);
  });

  it('refuses robots.txt redirects to private addresses and outside --follow; the host is then not crawled', async () => {
    const { metadata, ten, outside: out, own } = robotsSites;
    const r = await crawl('robots', [metadata, ten, out, own].map((s) => `${s.url}/`), [
      '--allow-private', '127.0.0.1', '--follow', 'allow-list', '--allow-hosts', privateHosts.join(','),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const stats = r.stats as CrawlStats;
    expect(stats.refused).toEqual({ 'robots-redirect-private-address': 2, 'robots-redirect-not-followed': 1 });
    expect(stats.skipped['robots-unavailable']).toBe(3);
    for (const site of [metadata, ten, out]) expect(paths(site)).toEqual(['/robots.txt']);
    expect(paths(outside)).toEqual([]);
    expect(stats.errors).toEqual({});
    // A robots.txt redirect within the host is followed, and its rules obeyed.
    expect(paths(own)).toEqual(['/robots.txt', '/real-robots.txt', '/']);
    expect(stats.skipped.robots).toBe(1);
  });

  it('--allow-private takes hosts and ranges; a seed outside them is refused with exit code 2', async () => {
    const r = await crawl('partly', [`${seed.url}/`, 'http://[::ffff:127.0.0.2]/', `${seed.url.replace('127.0.0.1', 'localhost')}/`], ['--allow-private', '127.0.0.0/31,::1']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      'refinery: seed http://[::ffff:7f00:2]/ refused: ::ffff:7f00:2 is a private address (to crawl it, name it or its range in --allow-private)',
      'refinery: 1 of 3 seed(s) refused (above)',
    ]);
    // The allowed seeds were crawled, localhost through its address 127.0.0.1.
    expect(r.stats?.responses).toBe(2);
    expect(r.stats?.refused).toEqual({ 'private-address': 1 });
  });

  it('refuses private seeds, by address and by DNS answer, with exit code 2 and one line per seed', async () => {
    const byName = `${seed.url.replace('127.0.0.1', 'localhost')}/`;
    const r = await crawl('refused', [`${seed.url}/`, byName], []);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `refinery: seed ${seed.url}/ refused: 127.0.0.1 is a private address (to crawl it, name it or its range in --allow-private)`,
      `refinery: seed ${byName} refused: localhost resolves to the private address 127.0.0.1 (to crawl it, name it or its range in --allow-private)`,
      'refinery: 2 of 2 seed(s) refused (above)',
    ]);
    expect(r.stats?.responses).toBe(0);
    expect(r.stats?.refused).toEqual({ 'private-address': 2 });
  });

  it('a bare --allow-private allows the seeds\' hosts only', async () => {
    const r = await crawl('bare', [`${seed.url}/to-metadata`, `${seed.url}/to-ten`], ['--allow-private', '--follow', 'allow-list', '--allow-hosts', privateHosts.join(',')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stats?.refused).toEqual({ 'redirect-private-address': 2 });
  });

  it('rejects an --allow-private entry that is no host or range', async () => {
    const r = await crawl('bad-allow', [`${seed.url}/`], ['--allow-private', '10.0.0.0/40']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('refinery: --allow-private: "10.0.0.0/40" is not a CIDR range (such as 10.0.0.0/8 or fd00::/8)');
  });
});
