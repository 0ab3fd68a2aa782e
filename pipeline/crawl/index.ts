/**
 * `refinery crawl`: a polite breadth-first crawler from seed URLs into standard WARC files
 * (request + response records), so crawled pages enter `ingest` exactly like Common Crawl.
 *
 * Politeness: robots.txt per origin (and its Crawl-delay), a delay and a concurrency limit
 * per host, a global concurrency limit, a User-Agent that names the project. Limits: pages,
 * stored bytes, depth, redirects, response size, connect/read/total timeouts, content types.
 *
 * Safety: links and redirects (of pages and of robots.txt) pass one policy, --follow, and every
 * request passes the address guard (address.ts): no private, loopback, link-local or other
 * reserved address, checked on each DNS answer, unless --allow-private names its host or range.
 * A seed the guard refuses makes the crawl exit with code 2.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { UserError, errorMessage } from '../core/errors.js';
import { writeFileAtomic } from '../core/layout.js';
import { readListFile } from '../core/list-file.js';
import { MARKER, claimDir, refuseInputOverlap, removeOwned } from '../core/owned-dirs.js';
import { decodeBody, detectCharset } from '../warc/charset.js';
import { decodeHttpBody, parseContentType } from '../warc/http.js';
import { WarcWriter, recordId } from '../warc/writer.js';
import { AddressGuard, parseAllowPrivate } from './address.js';
import { crawlDispatcher, fetchPage, responseHead, type Fetched, type FetchLimits } from './fetch.js';
import { extractLinks } from './links.js';
import { RobotsCache } from './robots.js';

export const crawlOptions = z
  .object({
    seeds: z.string().min(1).describe('file of seed URLs, one per line (# starts a comment)'),
    max_pages: z.number().int().min(1).default(1000).describe('stop after this many responses'),
    max_bytes: byteSize().prefault('1GiB').describe('stop after storing this many response bytes'),
    max_depth: z.number().int().min(0).default(3).describe('links followed from a seed, at most this many hops'),
    follow: z.enum(['same-host', 'allow-list', 'none']).default('same-host').describe('which links and redirects (of pages and robots.txt) to follow: to the same host, to --allow-hosts, or none (redirects: the same host only)'),
    allow_hosts: z.array(z.string()).default([]).describe('hosts (host:port as in URLs) links and redirects may lead to with --follow allow-list, besides the seeds\' (comma-separated)'),
    delay: z.number().min(0).default(1).describe('seconds between two requests to the same host (robots.txt Crawl-delay raises it)'),
    host_concurrency: z.number().int().min(1).default(1).describe('requests in flight to one host'),
    concurrency: z.number().int().min(1).default(16).describe('requests in flight in all'),
    max_redirects: z.number().int().min(0).default(5).describe('redirects followed from one URL'),
    max_response_size: byteSize().prefault('10MiB').describe('bytes of a body stored; the rest is not read (WARC-Truncated: length)'),
    connect_timeout: z.number().positive().default(10).describe('seconds to connect'),
    read_timeout: z.number().positive().default(30).describe('seconds to wait for headers or the next bytes of a body'),
    page_timeout: z.number().positive().default(60).describe('seconds for a whole response (slow bodies are cut: WARC-Truncated: time)'),
    content_types: z.array(z.string()).default(['text/html', 'application/xhtml+xml']).describe('content types stored (prefix match, comma-separated)'),
    allow_private: z
      .union([z.boolean(), z.string(), z.array(z.string())])
      .transform((v): true | string[] => (v === true ? true : v === false ? [] : (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter(Boolean)))
      .default([])
      .describe(
        'private, loopback, link-local and other reserved addresses to allow (refused by default): hosts, IP addresses or CIDR ranges, comma-separated; given bare, the seeds\' hosts',
      )
      .meta({ value: '[hosts,ranges]' }),
    user_agent: z.string().min(1).default('refinery-crawler/0.1 (+https://github.com/refinery-data/refinery)').describe('the User-Agent header; its first word is the robots.txt token'),
    warc_size: byteSize().prefault('1GiB').describe('start a new WARC file after this size'),
    overwrite: z.boolean().default(false).describe('replace an earlier crawl in the output directory'),
  })
  .strict();
export type CrawlConfig = z.infer<typeof crawlOptions>;

export interface CrawlStats {
  seeds: number;
  responses: number;
  bytes: number;
  statuses: Record<string, number>;
  /** URLs not fetched, by why. */
  skipped: Record<string, number>;
  /** URLs refused by the address guard or, as redirects, by --follow: by why ("private-address", "redirect-not-followed", "robots-redirect-private-address", ...). */
  refused: Record<string, number>;
  /** Seeds the address guard refused, with why: the crawl exits with code 2 when there are any. */
  refused_seeds: Record<string, string>;
  /** Fetches that failed, by why. */
  errors: Record<string, number>;
  truncated: Record<string, number>;
  requests_per_host: Record<string, number>;
  warc_files: string[];
  seconds: number;
  peak_rss_mb: number;
}

interface Item {
  url: string;
  depth: number;
  redirects: number;
}

interface Host {
  queue: Item[];
  nextAt: number;
  inFlight: number;
  delayMs: number;
}

const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);
const isoSeconds = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function readSeeds(file: string): string[] {
  const seeds = readListFile(file, 'seeds').map(({ line, value }) => {
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      url.hash = '';
      return url.toString();
    } catch {
      throw new UserError(`${file}:${line}: not an http(s) URL: ${JSON.stringify(value)}`);
    }
  });
  if (seeds.length === 0) throw new UserError(`${file}: no seed URLs`);
  return seeds;
}

function prepareOutput(out: string, overwrite: boolean, seeds: string): void {
  const ours = (n: string) => /^crawl-\d+\.warc\.gz$/.test(n) || n === '_crawl.json';
  refuseInputOverlap([out], [seeds]);
  // An earlier version's crawl output holds nothing but crawl files.
  claimDir(out, 'output', 'crawl', (_, names) => names.every(ours));
  const existing = readdirSync(out).filter((n) => n !== MARKER);
  if (existing.some(ours) && !overwrite) throw new UserError(`${out}: holds an earlier crawl; pass --overwrite to replace it, or choose another directory`);
  if (existing.some((n) => !ours(n) && !n.startsWith('.'))) throw new UserError(`${out}: exists and holds other files; refusing to write into it`);
  if (existing.length > 0) removeOwned(out, [seeds]);
}

export async function crawl(config: CrawlConfig, out: string, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<CrawlStats> {
  const seeds = readSeeds(config.seeds);
  const seedHosts = new Set(seeds.map((s) => new URL(s).host));
  const guard = new AddressGuard(parseAllowPrivate(config.allow_private === true ? seeds.map((s) => new URL(s).hostname) : config.allow_private));
  prepareOutput(out, config.overwrite, config.seeds);
  const started = performance.now();
  const limits: FetchLimits = {
    connectTimeoutMs: config.connect_timeout * 1000,
    readTimeoutMs: config.read_timeout * 1000,
    pageTimeoutMs: config.page_timeout * 1000,
    maxBytes: config.max_response_size,
    userAgent: config.user_agent,
    guard,
  };
  const stats: CrawlStats = {
    seeds: seeds.length, responses: 0, bytes: 0, statuses: {}, skipped: {}, refused: {}, refused_seeds: {}, errors: {}, truncated: {}, requests_per_host: {}, warc_files: [], seconds: 0, peak_rss_mb: 0,
  };
  const wantType = (ct: string) => config.content_types.some((t) => parseContentType(ct).mime.startsWith(t));
  const allowedHosts = new Set([...config.allow_hosts, ...seedHosts]);

  let writer: WarcWriter | null = null;
  const warc = () => {
    if (writer && writer.bytesWritten >= config.warc_size) {
      writer.close();
      writer = null;
    }
    if (!writer) {
      const name = `crawl-${String(stats.warc_files.length).padStart(5, '0')}.warc.gz`;
      writer = new WarcWriter(join(out, name));
      stats.warc_files.push(name);
      writer.write({
        type: 'warcinfo',
        headers: { 'WARC-Date': isoSeconds(), 'WARC-Filename': name, 'WARC-Record-ID': recordId(randomBytes(16)), 'Content-Type': 'application/warc-fields' },
        content: Buffer.from(`software: refinery crawl\nformat: WARC File Format 1.0\nhttp-header-user-agent: ${config.user_agent}\nrobots: obey\n`),
      });
    }
    return writer;
  };

  const hosts = new Map<string, Host>();
  const seen = new Set<string>();
  let reserved = 0;
  let inFlight = 0;
  const enqueue = (item: Item, countSeen = true) => {
    if (seen.has(item.url)) {
      if (countSeen) bump(stats.skipped, 'already-seen');
      return;
    }
    seen.add(item.url);
    const origin = new URL(item.url).origin;
    let host = hosts.get(origin);
    if (!host) {
      host = { queue: [], nextAt: 0, inFlight: 0, delayMs: config.delay * 1000 };
      hosts.set(origin, host);
    }
    host.queue.push(item);
  };
  for (const url of seeds) enqueue({ url, depth: 0, redirects: 0 }, false);

  /** --follow: may a link (or, with `redirect`, a redirect) lead from `from` to `to`? A redirect stays on its host under --follow none. */
  const follows = (from: string, to: string, redirect = false) => {
    const target = new URL(to).host;
    if (config.follow === 'allow-list') return allowedHosts.has(target);
    if (config.follow === 'none' && !redirect) return false;
    return target === new URL(from).host;
  };
  /** Why a redirect is refused, or null: the follow policy, then the address guard (for an IP in the URL; names are checked on connecting). */
  const redirectRefusal = (from: string, to: URL): string | null => {
    if (to.protocol !== 'http:' && to.protocol !== 'https:') return 'not-http';
    if (!follows(from, to.toString(), true)) return 'not-followed';
    return guard.literalRefusal(to) ? 'private-address' : null;
  };
  const dispatcher = crawlDispatcher(limits);
  const robots = new RobotsCache(limits, dispatcher, {
    max: config.max_redirects,
    check: redirectRefusal,
    refuse: (reason) => bump(stats.refused, reason),
  });
  /** A URL the address guard refused: counted, and remembered if it is a seed (the exit code says so). */
  const refuseAddress = (item: Item, detail: string) => {
    bump(stats.refused, item.redirects > 0 ? 'redirect-private-address' : 'private-address');
    if (item.depth === 0 && item.redirects === 0) stats.refused_seeds[item.url] = detail;
  };

  const record = (page: Fetched) => {
    const w = warc();
    const date = isoSeconds();
    const requestId = recordId(randomBytes(16));
    w.write({ type: 'request', headers: { 'WARC-Date': date, 'WARC-Record-ID': requestId, 'WARC-Target-URI': page.url, 'Content-Type': 'application/http; msgtype=request' }, content: Buffer.from(page.requestHead) });
    const head = Buffer.from(responseHead(page, page.body.length), 'latin1');
    const headers: Record<string, string> = {
      'WARC-Date': date,
      'WARC-Record-ID': recordId(randomBytes(16)),
      'WARC-Target-URI': page.url,
      'WARC-Concurrent-To': requestId,
      'Content-Type': 'application/http; msgtype=response',
    };
    if (page.truncated) headers['WARC-Truncated'] = page.truncated;
    w.write({ type: 'response', headers, content: Buffer.concat([head, page.body]) });
  };

  const links = (page: Fetched): string[] => {
    const headers = new Map(Object.entries(page.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
    const decoded = decodeHttpBody({ status: page.status, headers, raw: page.body }, config.max_response_size);
    if (!decoded.ok) {
      bump(stats.errors, `links-${decoded.reason}`); // e.g. a compression bomb: stored as received, not parsed
      return [];
    }
    const { charset } = detectCharset(decoded.response.body, parseContentType(headers.get('content-type')).charset);
    return extractLinks(decodeBody(decoded.response.body, charset), page.url);
  };

  const visit = async (item: Item, host: Host) => {
    const verdict = await robots.check(item.url, config.user_agent);
    if (verdict.crawlDelay !== null) host.delayMs = Math.max(host.delayMs, verdict.crawlDelay * 1000);
    if (!verdict.allowed) {
      const reason = verdict.reason ?? 'robots';
      if (reason === 'private-address') refuseAddress(item, verdict.detail ?? reason);
      else bump(reason.startsWith('robots') ? stats.skipped : stats.errors, reason);
      return;
    }
    if (reserved >= config.max_pages || stats.bytes >= config.max_bytes) {
      bump(stats.skipped, 'limit');
      return;
    }
    reserved++;
    bump(stats.requests_per_host, new URL(item.url).host);
    const result = await fetchPage(item.url, limits, dispatcher, wantType);
    if (!result.ok) {
      reserved--;
      if (result.reason === 'private-address') refuseAddress(item, result.detail);
      else bump(result.reason === 'content-type' ? stats.skipped : stats.errors, result.reason);
      return;
    }
    const page = result.page;
    record(page);
    stats.responses++;
    stats.bytes += page.body.length;
    bump(stats.statuses, String(page.status));
    if (page.truncated) bump(stats.truncated, page.truncated);
    const location = page.headers.location;
    if (page.status >= 300 && page.status < 400 && typeof location === 'string') {
      let target: URL;
      try {
        target = new URL(location, page.url);
      } catch {
        bump(stats.skipped, 'redirect-unusable');
        return;
      }
      target.hash = '';
      const refused = redirectRefusal(page.url, target);
      if (refused) bump(stats.refused, `redirect-${refused}`);
      else if (item.redirects + 1 > config.max_redirects) bump(stats.skipped, 'redirect-limit');
      else if (seen.has(target.toString())) bump(stats.skipped, 'redirect-to-seen'); // loops end here too
      else enqueue({ url: target.toString(), depth: item.depth, redirects: item.redirects + 1 });
      return;
    }
    if (page.status !== 200 || !wantType(String(page.headers['content-type'] ?? ''))) return;
    if (item.depth >= config.max_depth) return;
    for (const link of links(page)) {
      if (follows(page.url, link)) enqueue({ url: link, depth: item.depth + 1, redirects: 0 });
      else bump(stats.skipped, 'not-followed');
    }
  };

  // The scheduler: start whatever politeness allows, then sleep until something can start.
  let wake: () => void = () => {};
  let lastLog = performance.now();
  for (;;) {
    const now = performance.now();
    let soonest = Infinity;
    for (const host of hosts.values()) {
      while (host.queue.length > 0 && host.inFlight < config.host_concurrency && inFlight < config.concurrency && host.nextAt <= now) {
        const item = host.queue.shift() as Item;
        host.inFlight++;
        inFlight++;
        host.nextAt = now + host.delayMs;
        visit(item, host)
          .catch((err) => bump(stats.errors, `internal: ${errorMessage(err)}`))
          .finally(() => {
            host.inFlight--;
            inFlight--;
            // The delay counts from the end of a request as well as its start.
            host.nextAt = Math.max(host.nextAt, performance.now() + (host.inFlight === 0 ? host.delayMs : 0));
            wake();
          });
      }
      if (host.queue.length > 0 && host.nextAt > now) soonest = Math.min(soonest, host.nextAt);
    }
    const queued = [...hosts.values()].reduce((n, h) => n + h.queue.length, 0);
    if (inFlight === 0 && (queued === 0 || reserved >= config.max_pages || stats.bytes >= config.max_bytes)) break;
    if (now - lastLog > 10_000) {
      lastLog = now;
      log(`crawl: ${stats.responses} responses, ${(stats.bytes / 1e6).toFixed(1)} MB, ${queued} queued, ${hosts.size} hosts`);
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (soonest !== Infinity) setTimeout(resolve, Math.max(1, soonest - performance.now()));
    });
  }
  const leftover = [...hosts.values()].reduce((n, h) => n + h.queue.length, 0);
  if (leftover > 0) stats.skipped.limit = (stats.skipped.limit ?? 0) + leftover;
  (writer as WarcWriter | null)?.close();
  await dispatcher.close();
  stats.seconds = Math.round(performance.now() - started) / 1000;
  stats.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  writeFileAtomic(join(out, '_crawl.json'), `${JSON.stringify(stats, null, 1)}\n`);
  return stats;
}
