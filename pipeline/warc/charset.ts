/**
 * Finding a page's character encoding and decoding it to a JS string (UTF-16), in the
 * order browsers use: byte order mark, HTTP header, <meta> in the first 4 KiB; then, for
 * undeclared pages, valid UTF-8, then a statistical guess (jschardet), then windows-1252.
 */
import { isUtf8 } from 'node:buffer';
import { lazyPackage } from '../core/lazy-package.js';

const iconvLite = lazyPackage<typeof import('iconv-lite')>('iconv-lite');
const chardet = lazyPackage<typeof import('jschardet')>('jschardet');

export type CharsetSource = 'bom' | 'http' | 'meta' | 'utf8' | 'sniffed' | 'default';

/** WHATWG maps these labels to the encodings browsers really use. */
const ALIASES: Record<string, string> = {
  'iso-8859-1': 'windows-1252',
  'iso8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  utf8: 'utf-8',
  'x-sjis': 'shift_jis',
  gb2312: 'gbk',
  'x-gbk': 'gbk',
  'ks_c_5601-1987': 'euc-kr',
  'x-euc-jp': 'euc-jp',
  'windows-874': 'cp874',
  'tis-620': 'cp874',
};

/** A label iconv-lite can decode, normalised; null for labels it does not know. */
export function normaliseCharset(label: string | null | undefined): string | null {
  if (!label) return null;
  const l = label.trim().toLowerCase().replace(/^["']|["']$/g, '');
  const name = ALIASES[l] ?? l;
  if (name === 'utf-8') return name;
  return iconvLite().encodingExists(name) ? name : null;
}

const META = /<meta\b[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)/i;

export function detectCharset(body: Buffer, declared: string | null): { charset: string; source: CharsetSource } {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return { charset: 'utf-8', source: 'bom' };
  if (body[0] === 0xff && body[1] === 0xfe) return { charset: 'utf-16le', source: 'bom' };
  if (body[0] === 0xfe && body[1] === 0xff) return { charset: 'utf-16be', source: 'bom' };
  const http = normaliseCharset(declared);
  if (http) return { charset: http, source: 'http' };
  const meta = META.exec(body.toString('latin1', 0, Math.min(body.length, 4096)));
  const fromMeta = normaliseCharset(meta?.[1]);
  // A page that declares UTF-16 in <meta> is in fact ASCII-compatible (the spec says: UTF-8).
  if (fromMeta) return { charset: fromMeta.startsWith('utf-16') ? 'utf-8' : fromMeta, source: 'meta' };
  if (isUtf8(body)) return { charset: 'utf-8', source: 'utf8' };
  const guess = chardet().detect(body.subarray(0, 64 << 10).toString('binary'));
  const sniffed = guess.confidence > 0.2 ? normaliseCharset(guess.encoding) : null;
  if (sniffed) return { charset: sniffed, source: 'sniffed' };
  return { charset: 'windows-1252', source: 'default' };
}

export function decodeBody(body: Buffer, charset: string): string {
  if (charset === 'utf-8') {
    const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    return body.toString('utf8', start);
  }
  return iconvLite().decode(body, charset);
}
