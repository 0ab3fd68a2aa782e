/**
 * robots.txt, fetched once per origin and interpreted by `robots-parser` (the Google-style
 * rules: longest match wins, Allow beats Disallow on ties, wildcards and $). As crawlers
 * commonly do: a missing robots.txt (4xx) allows everything; one that cannot be fetched
 * (5xx, timeout) disallows the origin for this crawl. Redirects are followed (up to
 * --max-redirects) only where a page's redirect would be: within --follow, to an http(s) URL,
 * past the address guard; a refused one leaves robots.txt unavailable.
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
  detail?: string;
}

interface Unavailable {
  reason: string;
  detail?: string;
}

/** How robots.txt redirects are judged: the crawl's own rules for redirects. */
export interface RedirectPolicy {
  /** Redirects followed from one URL. */
  max: number;
  /** Why a redirect from `from` to `to` is refused ("not-followed", "not-http", "private-address"), or null. */
  check(from: string, to: URL): string | null;
  /** Count a refused redirect. */
  refuse(reason: string): void;
}

const MAX_ROBOTS_BYTES = 512 << 10;

export class RobotsCache {
  private readonly cache = new Map<string, Promise<Robots | 'allow-all' | Unavailable>>();

  constructor(
    private readonly limits: FetchLimits,
    private readonly dispatcher: Dispatcher,
    private readonly redirects: RedirectPolicy,
  ) {}

  private load(origin: string): Promise<Robots | 'allow-all' | Unavailable> {
    let pending = this.cache.get(origin);
    if (!pending) {
      pending = this.fetch(`${origin}/robots.txt`);
      this.cache.set(origin, pending);
    }
    return pending;
  }

  /** robots.txt, following redirects hop by hop, each hop under the crawl's follow policy and address guard. */
  private async fetch(url: string): Promise<Robots | 'allow-all' | Unavailable> {
    let at = url;
    for (let hops = 0; ; hops++) {
      const r = await fetchPage(at, { ...this.limits, maxBytes: MAX_ROBOTS_BYTES }, this.dispatcher, () => true);
      if (!r.ok) {
        // A host we may not connect to says so directly; a redirect to one is refused and leaves robots.txt unavailable.
        if (r.reason !== 'private-address') return { reason: 'robots-unavailable' };
        if (hops === 0) return { reason: r.reason, detail: r.detail };
        this.redirects.refuse('robots-redirect-private-address');
        return { reason: 'robots-unavailable' };
      }
      const { status, body, headers } = r.page;
      if (status >= 300 && status < 400 && typeof headers.location === 'string') {
        if (hops >= this.redirects.max) return { reason: 'robots-unavailable' };
        let next: URL;
        try {
          next = new URL(headers.location, at);
        } catch {
          return { reason: 'robots-unavailable' };
        }
        const refused = this.redirects.check(at, next);
        if (refused) {
          this.redirects.refuse(`robots-redirect-${refused}`);
          return { reason: 'robots-unavailable' };
        }
        at = next.toString();
        continue;
      }
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
      // The rules are for the origin asked about, wherever the redirects led.
      return robotsParser(url, text.toString('utf8'));
    }
  }

  async check(url: string, userAgent: string): Promise<RobotsVerdict> {
    const robots = await this.load(new URL(url).origin);
    if (robots === 'allow-all') return { allowed: true, crawlDelay: null };
    if ('reason' in robots) return { allowed: false, crawlDelay: null, reason: robots.reason, detail: robots.detail };
    const token = userAgent.split('/')[0];
    const allowed = robots.isAllowed(url, token) !== false;
    return { allowed, crawlDelay: robots.getCrawlDelay(token) ?? null, reason: allowed ? undefined : 'robots' };
  }
}
