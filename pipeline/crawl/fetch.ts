/**
 * One HTTP GET for the crawler, bounded in every way a hostile or broken server can push:
 * connect and read timeouts, a total deadline (for servers that drip a byte at a time),
 * a body size cap (the rest is not read), and no redirects followed here (the crawler
 * queues them itself, subject to robots.txt, its limits, --follow and the address guard).
 * Every request passes the address guard: an IP in the URL before connecting, a name on
 * each of its DNS answers.
 */
import type { Dispatcher } from 'undici';
import { lazyPackage } from '../core/lazy-package.js';

const undici = lazyPackage<typeof import('undici')>('undici');
import { errorMessage } from '../core/errors.js';
import { PrivateAddressError, type AddressGuard } from './address.js';

export interface FetchLimits {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  pageTimeoutMs: number;
  maxBytes: number;
  userAgent: string;
  /** Refuses private addresses not allowed by --allow-private, for every request and every DNS answer. */
  guard: AddressGuard;
}

export interface Fetched {
  url: string;
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body as received (content encoding not undone), up to the size cap. */
  body: Buffer;
  /** Why the body is incomplete: "length" (over the cap) or "time" (deadline), as WARC-Truncated says. */
  truncated: 'length' | 'time' | null;
  /** The request as sent, for the WARC request record. */
  requestHead: string;
  ip: string | null;
}

export type FetchResult = { ok: true; page: Fetched } | { ok: false; reason: string; detail: string };

export function crawlDispatcher(limits: FetchLimits): Dispatcher {
  return new (undici().Agent)({
    connections: 8,
    keepAliveTimeout: 5_000,
    connect: { timeout: limits.connectTimeoutMs, lookup: limits.guard.lookup },
  });
}

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 403: 'Forbidden', 404: 'Not Found', 410: 'Gone', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export async function fetchPage(url: string, limits: FetchLimits, dispatcher: Dispatcher, wanted: (contentType: string) => boolean): Promise<FetchResult> {
  const target = new URL(url);
  const refused = limits.guard.literalRefusal(target); // an IP in the URL is connected to without a DNS lookup
  if (refused) return { ok: false, reason: 'private-address', detail: refused };
  const headers = {
    host: target.host,
    'user-agent': limits.userAgent,
    accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.5',
    'accept-encoding': 'gzip, deflate, br',
  };
  const requestHead = `GET ${target.pathname}${target.search} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), limits.pageTimeoutMs);
  let status = 0;
  const parts: Buffer[] = [];
  let size = 0;
  try {
    const res = await undici().request(url, {
      method: 'GET',
      headers,
      dispatcher,
      headersTimeout: limits.readTimeoutMs,
      bodyTimeout: limits.readTimeoutMs,
      signal: deadline.signal,
    });
    status = res.statusCode;
    // Errors of a body we stop reading (size cap, deadline) arrive late: they must not crash the crawl.
    res.body.on('error', () => {});
    const page: Fetched = {
      url,
      status,
      statusText: STATUS_TEXT[status] ?? '',
      headers: res.headers,
      body: Buffer.alloc(0),
      truncated: null,
      requestHead,
      ip: null,
    };
    const contentType = String(res.headers['content-type'] ?? '');
    if (status === 200 && !wanted(contentType)) {
      res.body.destroy();
      return { ok: false, reason: 'content-type', detail: contentType || '(none)' };
    }
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (size + chunk.length > limits.maxBytes) {
          parts.push(chunk.subarray(0, limits.maxBytes - size));
          size = limits.maxBytes;
          page.truncated = 'length';
          res.body.destroy();
          break;
        }
        parts.push(chunk);
        size += chunk.length;
      }
    } catch (err) {
      if (!deadline.signal.aborted) throw err;
      page.truncated = 'time';
    }
    page.body = Buffer.concat(parts, size);
    return { ok: true, page };
  } catch (err) {
    if (err instanceof PrivateAddressError || (err as { cause?: unknown }).cause instanceof PrivateAddressError) {
      return { ok: false, reason: 'private-address', detail: errorMessage((err as { cause?: unknown }).cause ?? err) };
    }
    if (deadline.signal.aborted) return { ok: false, reason: 'timeout', detail: `no complete answer within ${limits.pageTimeoutMs} ms` };
    const code = (err as { code?: string }).code ?? '';
    const reason = /TIMEOUT/i.test(code) ? 'timeout' : /ENOTFOUND|EAI_AGAIN/.test(code) ? 'dns' : 'connection';
    return { ok: false, reason, detail: `${code ? `${code}: ` : ''}${errorMessage(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP response head as stored in a WARC response record (the body is stored dechunked). */
export function responseHead(page: Fetched, bodyLength: number): string {
  const lines = [`HTTP/1.1 ${page.status} ${page.statusText}`.trimEnd()];
  for (const [name, value] of Object.entries(page.headers)) {
    if (value === undefined || name === 'content-length') continue;
    // The transport already undid chunking: say so the way Common Crawl does.
    const stored = name === 'transfer-encoding' ? 'x-crawler-transfer-encoding' : name;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${stored}: ${v}`);
  }
  lines.push(`content-length: ${bodyLength}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
