/**
 * One page, from a file, a URL or standard input, through the same extraction as the stage:
 * what `refinery extract-page` prints when you look at a bad extraction.
 */
import { readFileSync } from 'node:fs';
import { lazyPackage } from '../core/lazy-package.js';

const undici = lazyPackage<typeof import('undici')>('undici');
import { UserError, errorMessage } from '../core/errors.js';
import { decodeBody, detectCharset } from '../warc/charset.js';
import { decodeHttpBody, parseContentType } from '../warc/http.js';
import { identifyLanguage } from './language.js';
import { extractFast } from './fast/index.js';
import type { Engine } from './pool.js';
import { extractHtml, DEFAULT_EXTRACT, type Extracted } from './readable.js';

export interface PageReport extends Extracted {
  source: string;
  charset: string;
  html_bytes: number;
  lang: string | null;
  lang_score: number | null;
}

const MAX_PAGE_BYTES = 50 << 20;

async function fetchHtml(url: string): Promise<{ body: Buffer; declared: string | null }> {
  let res;
  try {
    res = await undici().request(url, { headers: { 'user-agent': 'refinery-extract-page/0.1', 'accept-encoding': 'gzip, deflate, br' }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  } catch (err) {
    throw new UserError(`${url}: ${errorMessage(err)}`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAGE_BYTES) throw new UserError(`${url}: more than ${MAX_PAGE_BYTES} bytes`);
    parts.push(chunk);
  }
  if (res.statusCode !== 200) throw new UserError(`${url}: HTTP ${res.statusCode}`);
  const headers = new Map(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
  const decoded = decodeHttpBody({ status: res.statusCode, headers, raw: Buffer.concat(parts) }, MAX_PAGE_BYTES);
  if (!decoded.ok) throw new UserError(`${url}: ${decoded.detail}`);
  return { body: decoded.response.body, declared: parseContentType(headers.get('content-type')).charset };
}

/** The HTML of a page from a file, a URL or standard input, decoded. */
export async function readPage(source: string): Promise<{ html: string; charset: string; bytes: number }> {
  let body: Buffer;
  let declared: string | null = null;
  if (/^https?:\/\//i.test(source)) ({ body, declared } = await fetchHtml(source));
  else {
    try {
      body = readFileSync(source === '-' ? 0 : source);
    } catch (err) {
      throw new UserError(`${source}: cannot read (${errorMessage(err)})`);
    }
  }
  const { charset } = detectCharset(body, declared);
  return { html: decodeBody(body, charset), charset, bytes: body.length };
}

export function extractWith(engine: Engine, html: string, url: string | null): Extracted {
  return engine === 'fast' ? extractFast(html, DEFAULT_EXTRACT) : extractHtml(html, url, DEFAULT_EXTRACT);
}

export async function extractPage(source: string, engine: Engine = 'fast', url: string | null = null): Promise<PageReport> {
  const page = await readPage(source);
  const extracted = extractWith(engine, page.html, url ?? (/^https?:/i.test(source) ? source : null));
  const lang = await identifyLanguage(extracted.text);
  return { ...extracted, source, charset: page.charset, html_bytes: page.bytes, lang: lang?.lang ?? null, lang_score: lang?.score ?? null };
}
