/**
 * Common Crawl's URL index (a pywb CDX server): the captures matching a URL pattern, each
 * a byte range of a WARC file. A stage task is one page of the index's answer, so the work
 * splits the way the index does and every task is repeatable.
 */
import { errorMessage } from '../core/errors.js';
import { fetchBytes, type RemoteOptions } from './remote.js';

export interface Capture {
  url: string;
  filename: string;
  offset: number;
  length: number;
  status?: string;
  mime?: string;
  /** MIME type detected by Common Crawl from the content (when the index has it). */
  'mime-detected'?: string;
}

export const CDX_PREFIX = 'cdx+';

function query(index: string, pattern: string, extra: Record<string, string>): string {
  const url = new URL(index);
  url.searchParams.set('url', pattern);
  url.searchParams.set('output', 'json');
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  return url.toString();
}

/** One `cdx+<query URL>` input per page of the index's answer. */
export async function cdxPages(index: string, pattern: string, remote: Partial<RemoteOptions>): Promise<string[]> {
  let pages = 1;
  try {
    const info = JSON.parse((await fetchBytes(query(index, pattern, { showNumPages: 'true' }), remote)).toString('utf8')) as { pages?: number };
    if (typeof info.pages === 'number') pages = info.pages;
  } catch (err) {
    throw new Error(`cannot query the index ${index}: ${errorMessage(err)}`);
  }
  return Array.from({ length: pages }, (_, page) => `${CDX_PREFIX}${query(index, pattern, { page: String(page) })}`);
}

/** The captures of one page of the index's answer, in the index's order. */
export async function capturesOf(input: string, remote: Partial<RemoteOptions>): Promise<Capture[]> {
  const body = (await fetchBytes(input.slice(CDX_PREFIX.length), remote)).toString('utf8');
  const captures: Capture[] = [];
  for (const line of body.split('\n')) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as Record<string, unknown>;
    captures.push({ ...(c as object), url: String(c.url), filename: String(c.filename), offset: Number(c.offset), length: Number(c.length) } as Capture);
  }
  return captures;
}

/** Run `fetch` over `items` with up to `concurrency` in flight, yielding results in order. */
export async function* ordered<T, R>(items: readonly T[], concurrency: number, fetch: (item: T) => Promise<R>): AsyncGenerator<R> {
  const inFlight: Promise<R>[] = [];
  let next = 0;
  const start = () => {
    const p = fetch(items[next++]);
    p.catch(() => {}); // awaited in order below; a failure ahead of it must not go unhandled
    inFlight.push(p);
  };
  while (next < items.length && inFlight.length < concurrency) start();
  while (inFlight.length > 0) {
    const result = await (inFlight.shift() as Promise<R>);
    if (next < items.length) start();
    yield result;
  }
}
