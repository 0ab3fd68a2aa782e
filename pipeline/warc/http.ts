/**
 * The HTTP response inside a WARC/ARC response record: status line, headers, and a body
 * with its transfer and content encodings undone (chunked; gzip, deflate, br), each
 * decoding bounded in output size so a compression bomb cannot blow memory.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { errorMessage } from '../core/errors.js';
import { headerEnd } from './records.js';

export interface HttpResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** Non-fatal oddities (malformed chunking, an encoding that was already undone, ...). */
  notes: string[];
}

export type HttpResult = { ok: true; response: HttpResponse } | { ok: false; reason: string; detail: string };

function splitHead(block: Buffer): { head: string; body: Buffer } | null {
  const found = headerEnd(block);
  if (!found) return null;
  return { head: block.toString('latin1', 0, found.end), body: block.subarray(found.end + found.sep) };
}

/** Undo chunked transfer encoding; null when the framing is broken. */
export function dechunk(body: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\n', pos);
    if (eol === -1) return parts.length ? Buffer.concat(parts) : null; // cut short: keep what arrived
    const sizeText = body.toString('latin1', pos, eol).replace(/\r$/, '').split(';')[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return null;
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) return Buffer.concat(parts);
    const start = eol + 1;
    parts.push(body.subarray(start, start + size));
    if (start + size >= body.length) return Buffer.concat(parts);
    pos = start + size;
    if (body[pos] === 13) pos++;
    if (body[pos] === 10) pos++;
  }
}

function decodeContent(body: Buffer, encoding: string, maxOutput: number): Buffer {
  const opts = { maxOutputLength: maxOutput };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body, opts);
    case 'deflate':
      // "deflate" is zlib-wrapped by the standard and raw in practice, often.
      try {
        return inflateSync(body, opts);
      } catch {
        return inflateRawSync(body, opts);
      }
    case 'br':
      return brotliDecompressSync(body, opts);
    default:
      throw new Error(`unsupported content encoding "${encoding}"`);
  }
}

export interface HttpHead {
  status: number;
  headers: Map<string, string>;
  /** The body as stored: transfer and content encodings not yet undone. */
  raw: Buffer;
}

export type HeadResult = { ok: true; head: HttpHead } | { ok: false; reason: string; detail: string };

/** Status line and headers only: enough to decide whether the body is worth decoding. */
export function parseHttpHead(block: Buffer): HeadResult {
  const parts = splitHead(block);
  if (!parts) return { ok: false, reason: 'bad-http', detail: 'HTTP header without an end' };
  const lines = parts.head.split('\n');
  const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/i.exec(lines[0]);
  if (!status) return { ok: false, reason: 'bad-http', detail: `not an HTTP status line: ${JSON.stringify(lines[0].slice(0, 60))}` };
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim(); // trimming also drops the CR of a CRLF line
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { ok: true, head: { status: Number(status[1]), headers, raw: parts.body } };
}

/** Undo the transfer and content encodings of a body, bounded by `maxBody` decoded bytes. */
export function decodeHttpBody(head: HttpHead, maxBody: number): HttpResult {
  const { headers } = head;
  const notes: string[] = [];
  let body = head.raw;
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const plain = dechunk(body);
    if (plain) body = plain;
    else notes.push('malformed chunked encoding: body kept as is');
  }
  const encodings = (headers.get('content-encoding') ?? '')
    .toLowerCase()
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== 'identity');
  for (const encoding of encodings.reverse()) {
    // Crawlers often store the body already decoded but keep the header: check the magic first.
    if ((encoding === 'gzip' || encoding === 'x-gzip') && !(body[0] === 0x1f && body[1] === 0x8b)) {
      notes.push(`Content-Encoding ${encoding} but the body is not gzip: kept as is`);
      continue;
    }
    try {
      body = decodeContent(body, encoding, maxBody);
    } catch (err) {
      const message = errorMessage(err);
      const bomb = /larger than|too large/i.test(message);
      return { ok: false, reason: bomb ? 'too-large' : 'bad-encoding', detail: `${encoding} body: ${bomb ? `decodes to more than ${maxBody} bytes` : message}` };
    }
  }
  return { ok: true, response: { status: head.status, headers, body, notes } };
}

export function parseHttpResponse(block: Buffer, maxBody: number): HttpResult {
  const head = parseHttpHead(block);
  return head.ok ? decodeHttpBody(head.head, maxBody) : head;
}

/** "text/html; charset=UTF-8" -> { mime: "text/html", charset: "utf-8" } */
export function parseContentType(value: string | undefined): { mime: string; charset: string | null } {
  if (!value) return { mime: '', charset: null };
  const [mime, ...params] = value.split(';');
  let charset: string | null = null;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*["']?([^"';\s]+)/i.exec(p);
    if (m) charset = m[1].toLowerCase();
  }
  return { mime: mime.trim().toLowerCase(), charset };
}
