/**
 * Reading archives over HTTP without a temporary copy: the body streams straight into the
 * archive reader. A dropped connection resumes where it stopped with an HTTP Range request;
 * 5xx/429 answers and timeouts are retried with exponential backoff; a server that ignores
 * Range is handled by skipping what was already read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { lazyPackage } from '../core/lazy-package.js';

const undici = lazyPackage<typeof import('undici')>('undici');
import { errorMessage } from '../core/errors.js';

export interface RemoteOptions {
  retries: number;
  /** Milliseconds before the first retry; doubles each time (with jitter). */
  backoffMs: number;
  /** Milliseconds to wait for response headers, and between body chunks. */
  timeoutMs: number;
  /** Most bytes read from one URL: an endless body fails instead of running forever. */
  maxBytes: number;
  dispatcher?: Dispatcher;
  /** Called on every retry, for the log. */
  onRetry?(url: string, attempt: number, reason: string): void;
}

export const DEFAULT_REMOTE: RemoteOptions = { retries: 8, backoffMs: 500, timeoutMs: 60_000, maxBytes: Infinity };

let sharedAgent: Dispatcher | undefined;
const agent = () => (sharedAgent ??= new (undici().Agent)({ connections: 16, keepAliveTimeout: 10_000 }));

export class HttpError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url}: HTTP ${status}`);
  }
}

/** A body longer than `maxBytes`: not retried. */
export class TooLarge extends Error {}

const retryable = (status: number) => status === 429 || status === 408 || status >= 500;

function backoff(o: RemoteOptions, attempt: number): number {
  const base = o.backoffMs * 2 ** (attempt - 1);
  return Math.min(base + Math.random() * base * 0.25, 60_000);
}

/**
 * The bytes of `url` from `start` (to `end`, inclusive, when given), as a stream of chunks
 * that survives dropped connections.
 */
export async function* httpChunks(url: string, opts: Partial<RemoteOptions> = {}, start = 0, end?: number): AsyncGenerator<Buffer> {
  const o = { ...DEFAULT_REMOTE, ...opts };
  let received = 0;
  let failures = 0;
  for (;;) {
    const from = start + received;
    const ranged = from > 0 || end !== undefined;
    let reason: string;
    try {
      const res = await undici().request(url, {
        method: 'GET',
        headers: ranged ? { range: `bytes=${from}-${end ?? ''}` } : {},
        dispatcher: o.dispatcher ?? agent(),
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
      });
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        await res.body.dump();
        if (!retryable(res.statusCode)) throw new HttpError(url, res.statusCode);
        reason = `HTTP ${res.statusCode}`;
      } else {
        // A server that ignores Range sends everything again: skip what we already have.
        let skip = ranged && res.statusCode === 200 ? from : 0;
        let remaining = end !== undefined && res.statusCode === 200 ? end - from + 1 : Infinity;
        for await (const raw of res.body as AsyncIterable<Buffer>) {
          let chunk = raw;
          if (skip > 0) {
            const drop = Math.min(skip, chunk.length);
            skip -= drop;
            chunk = chunk.subarray(drop);
          }
          if (chunk.length > remaining) chunk = chunk.subarray(0, remaining);
          if (chunk.length === 0) continue;
          remaining -= chunk.length;
          received += chunk.length;
          if (received > o.maxBytes) throw new TooLarge(`more than ${o.maxBytes} bytes; stopped reading (--http-max-size)`);
          failures = 0; // progress resets the retry budget
          yield chunk;
          if (remaining === 0) break;
        }
        if (skip > 0) reason = 'body shorter than the bytes already read';
        else return;
      }
    } catch (err) {
      if (err instanceof HttpError || err instanceof TooLarge) throw err;
      reason = errorMessage(err);
    }
    if (++failures > o.retries) throw new Error(`${url}: giving up after ${o.retries} retries (${reason})`);
    o.onRetry?.(url, failures, reason);
    await sleep(backoff(o, failures));
  }
}

/** A whole (small) resource, retried like any other. */
export async function fetchBytes(url: string, opts: Partial<RemoteOptions> = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of httpChunks(url, opts)) parts.push(chunk);
  return Buffer.concat(parts);
}

export const isUrl = (s: string) => /^https?:\/\//i.test(s);

/**
 * A Common Crawl path (crawl-data/..., /crawl-data/..., or s3://commoncrawl/crawl-data/...)
 * as a URL under `base` (https://data.commoncrawl.org or a mirror laid out the same way).
 */
export function crawlUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.trim().replace(/^s3:\/\/commoncrawl\//, '').replace(/^\/+/, '')}`;
}

/** Lines of a paths listing (gzipped or not), blank lines and comments dropped. */
export function listingPaths(bytes: Buffer): string[] {
  const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  return text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
}

/** The WARC (or WET) file URLs of a Common Crawl crawl: its paths listing, then a slice. */
export async function commonCrawlFiles(o: { crawl: string; base: string; files: number; skip: number; wet: boolean }, remote: Partial<RemoteOptions> = {}): Promise<string[]> {
  const listing = crawlUrl(o.base, `crawl-data/${o.crawl}/${o.wet ? 'wet' : 'warc'}.paths.gz`);
  let body: Buffer;
  try {
    body = await fetchBytes(listing, remote);
  } catch (err) {
    throw new Error(`cannot read the paths listing of ${o.crawl}: ${errorMessage(err)}`);
  }
  return listingPaths(body).slice(o.skip, o.skip + o.files).map((p) => crawlUrl(o.base, p));
}
