/**
 * robots.txt, fetched once per origin and interpreted by `robots-parser` (the Google-style
 * rules: longest match wins, Allow beats Disallow on ties, wildcards and $). As crawlers
 * commonly do: a missing robots.txt (4xx) allows everything; one that cannot be fetched
 * (5xx, timeout) disallows the origin for this crawl.
 */
import { gunzipSync } from 'node:zlib';
import robotsParserModule from 'robots-parser';
import type { Dispatcher } from 'undici';
import { fetchPage, type FetchLimits } from './fetch.js';

interface Robots {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
}
// A CommonJS module whose export is the function itself; its typings describe an ES default export.
const robotsParser = robotsParserModule as unknown as (url: string, text: string) => Robots;

export interface RobotsVerdict {
  allowed: boolean;
  /** Seconds between requests asked by Crawl-delay, if any. */
  crawlDelay: number | null;
  /** Why not allowed: "robots" (disallowed), "robots-unavailable", or the fetch failure ("private-address", ...). */
  reason?: string;
}

interface Unavailable {
  reason: string;
}

const MAX_ROBOTS_BYTES = 512 << 10;

export class RobotsCache {
  private readonly cache = new Map<string, Promise<Robots | 'allow-all' | Unavailable>>();

  constructor(
    private readonly limits: FetchLimits,
    private readonly dispatcher: Dispatcher,
  ) {}

  private load(origin: string): Promise<Robots | 'allow-all' | Unavailable> {
    let pending = this.cache.get(origin);
    if (!pending) {
      const url = `${origin}/robots.txt`;
      pending = fetchPage(url, { ...this.limits, maxBytes: MAX_ROBOTS_BYTES }, this.dispatcher, () => true).then((r) => {
        // A host we may not connect to says so directly; any other failure makes robots.txt unavailable.
        if (!r.ok) return { reason: r.reason === 'private-address' ? r.reason : 'robots-unavailable' };
        const { status, body, headers } = r.page;
        if (status >= 400 && status < 500) return 'allow-all';
        if (status !== 200) return { reason: 'robots-unavailable' };
        let text = body;
        if (/gzip/i.test(String(headers['content-encoding'] ?? '')) && body[0] === 0x1f) {
          try {
            text = gunzipSync(body, { maxOutputLength: MAX_ROBOTS_BYTES });
          } catch {
            return { reason: 'robots-unavailable' };
          }
        }
        return robotsParser(url, text.toString('utf8'));
      });
      this.cache.set(origin, pending);
    }
    return pending;
  }

  async check(url: string, userAgent: string): Promise<RobotsVerdict> {
    const robots = await this.load(new URL(url).origin);
    if (robots === 'allow-all') return { allowed: true, crawlDelay: null };
    if ('reason' in robots) return { allowed: false, crawlDelay: null, reason: robots.reason };
    const token = userAgent.split('/')[0];
    const allowed = robots.isAllowed(url, token) !== false;
    return { allowed, crawlDelay: robots.getCrawlDelay(token) ?? null, reason: allowed ? undefined : 'robots' };
  }
}
