/** The archive reader's layers on synthetic input with known damage. */
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateRawSync, gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readArchive, type ArchiveRecord } from '../pipeline/warc/archive.js';
import { ByteReader } from '../pipeline/warc/byte-reader.js';
import { decodeBody, detectCharset } from '../pipeline/warc/charset.js';
import { parseHttpResponse } from '../pipeline/warc/http.js';

function warcRecord(type: string, uri: string, body: string | Buffer, extra = ''): Buffer {
  const content = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `WARC/1.0\r\nWARC-Type: ${type}\r\nWARC-Target-URI: ${uri}\r\nWARC-Date: 2024-05-01T12:00:00Z\r\nWARC-Record-ID: <urn:uuid:${uri.length}-${content.length}>\r\n${extra}Content-Length: ${content.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), content, Buffer.from('\r\n\r\n')]);
}

const http = (html: string) => `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}`;

async function readAll(data: Buffer, opts: { maxWindow?: number; maxMember?: number; chunk?: number } = {}) {
  const damage: string[] = [];
  const records: { location: string; type: string; text: string | null; truncated: boolean }[] = [];
  // Feed in small chunks to exercise refills across record and member boundaries.
  const chunk = opts.chunk ?? 997;
  const reader = new ByteReader((async function* () {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  })(), 4096);
  const it = readArchive(reader, {
    want: () => true,
    maxContent: 1 << 20,
    maxMember: opts.maxMember ?? 1 << 20,
    maxWindow: opts.maxWindow,
    onDamage: (where, reason) => damage.push(`${where}: ${reason}`),
  });
  for await (const r of it as AsyncGenerator<ArchiveRecord>) records.push({ location: r.location, type: r.type, text: r.content?.toString() ?? null, truncated: r.truncated });
  return { records, damage };
}

const pages = Array.from({ length: 6 }, (_, i) => warcRecord('response', `http://example.org/${i}`, http(`<p>page ${i} ${'x'.repeat(i * 300)}</p>`), 'Content-Type: application/http; msgtype=response\r\n'));

describe('gzip members', () => {
  it('reads one record per member and reports member offsets', async () => {
    const members = pages.map((p) => gzipSync(p));
    const { records, damage } = await readAll(Buffer.concat(members));
    expect(damage).toEqual([]);
    let offset = 0;
    expect(records.map((r) => r.location)).toEqual(members.map((m) => String((offset += m.length) - m.length)));
    expect(records.map((r) => r.text?.match(/page \d/)?.[0])).toEqual(pages.map((_, i) => `page ${i}`));
  });

  it('skips garbage between members and a corrupt member, keeping every intact record', async () => {
    const members = pages.map((p) => gzipSync(p));
    const corrupt = Buffer.from(members[3]);
    for (let i = 20; i < 40; i++) corrupt[i] ^= 0x5a;
    const data = Buffer.concat([members[0], Buffer.from('GARBAGE BETWEEN MEMBERS'), members[1], members[2], corrupt, members[4], members[5]]);
    const { records, damage } = await readAll(data);
    expect(records.map((r) => r.text?.match(/page \d/)?.[0])).toEqual(['page 0', 'page 1', 'page 2', 'page 4', 'page 5']);
    expect(damage).toHaveLength(3);
    expect(damage[0]).toMatch(new RegExp(`^${members[0].length}: not a gzip member: 23 bytes skipped`));
    expect(damage[1]).toMatch(/corrupt gzip member/);
  });

  it('gives the records of a truncated last member, and reports the cut', async () => {
    const members = pages.map((p) => gzipSync(p));
    const whole = gzipSync(Buffer.concat(pages.slice(0, 5)));
    const data = Buffer.concat([members[0], whole.subarray(0, Math.floor(whole.length * 0.8))]);
    const { records, damage } = await readAll(data);
    expect(records.length).toBeGreaterThanOrEqual(3);
    expect(records.slice(0, -1).every((r) => !r.truncated)).toBe(true);
    expect(damage.some((d) => /gzip member cut short/.test(d))).toBe(true);
  });

  it('streams a member too big to inflate in one call (a whole-file gzip)', async () => {
    const many = Array.from({ length: 200 }, (_, i) => warcRecord('conversion', `http://example.org/${i}`, `text ${i} ${randomBytes(1500).toString('base64')}`));
    const whole = gzipSync(Buffer.concat(many));
    expect(whole.length).toBeGreaterThan(64 << 10);
    const { records, damage } = await readAll(whole, { maxWindow: 16 << 10, chunk: 5000 });
    expect(damage).toEqual([]);
    expect(records).toHaveLength(200);
    expect(records[199].location).toMatch(/^0\+\d+$/);
    expect(records[37].text).toMatch(/^text 37 /);
  });

  it('streams a member whose output is over the memory bound', async () => {
    const big = gzipSync(Buffer.concat(Array.from({ length: 50 }, (_, i) => warcRecord('conversion', `http://x/${i}`, 'y'.repeat(40_000)))));
    const { records } = await readAll(big, { maxMember: 100_000 });
    expect(records).toHaveLength(50);
  });
});

describe('WARC records', () => {
  it('recovers from garbage between records and a Content-Length that runs into the next record', async () => {
    const bad = warcRecord('conversion', 'http://example.org/long', 'short text').toString().replace('Content-Length: 10', 'Content-Length: 90');
    const data = Buffer.concat([Buffer.from('junk before the first record\n'), pages[0], Buffer.from(bad), pages[1]]);
    const { records, damage } = await readAll(data);
    expect(records.map((r) => r.type)).toEqual(['response', 'conversion', 'response']);
    expect(records[1].text).toBe('short text');
    expect(damage).toEqual([expect.stringMatching(/^0: bytes that do not start a record/), expect.stringMatching(/Content-Length 90 runs into the next record/)]);
  });

  it('reports a record cut short by the end of the input', async () => {
    const data = Buffer.concat([pages[0], pages[1].subarray(0, pages[1].length - 100)]);
    const { records, damage } = await readAll(data);
    expect(records.map((r) => r.truncated)).toEqual([false, true]);
    expect(damage).toEqual([expect.stringMatching(/record cut short/)]);
  });

  it('reads ARC v1 records after the filedesc header', async () => {
    const body = http('<p>arc page</p>');
    const filedesc = 'filedesc://x.arc 0.0.0.0 20080101000000 text/plain 12\n1 0 Archive\n\n';
    const data = Buffer.from(`${filedesc}http://example.org/a 1.2.3.4 20080509190241 text/html ${Buffer.byteLength(body)}\n${body}\n`);
    const { records, damage } = await readAll(data);
    expect(damage).toEqual([]);
    expect(records.map((r) => r.type)).toEqual(['filedesc', 'response']);
    expect(records[1].text).toContain('arc page');
  });
});

describe('HTTP bodies', () => {
  const head = (extra: string) => `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n${extra}\r\n`;
  it('undoes chunked transfer encoding and gzip, deflate and br content encodings', () => {
    const html = '<html><body>héllo wörld</body></html>';
    const chunked = Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n')), Buffer.from('5\r\n<html\r\n1d\r\n><body>h\u00e9llo w\u00f6rld</body></html>\r\n0\r\n\r\n'.replace('1d', Buffer.byteLength('><body>héllo wörld</body></html>').toString(16)))]);
    const decoded = parseHttpResponse(chunked, 1 << 20);
    expect(decoded.ok && decoded.response.body.toString()).toBe(html);
    for (const [name, encode] of [['gzip', gzipSync], ['deflate', deflateRawSync], ['br', brotliCompressSync]] as const) {
      const r = parseHttpResponse(Buffer.concat([Buffer.from(head(`Content-Encoding: ${name}\r\n`)), encode(Buffer.from(html))]), 1 << 20);
      expect(r.ok && r.response.body.toString()).toBe(html);
    }
  });

  it('refuses a compression bomb instead of inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(50 << 20));
    const r = parseHttpResponse(Buffer.concat([Buffer.from(head('Content-Encoding: gzip\r\n')), bomb]), 1 << 20);
    expect(r).toMatchObject({ ok: false, reason: 'too-large' });
  });
});

describe('charsets', () => {
  it('follows BOM, then HTTP header, then <meta>, then sniffs', () => {
    expect(detectCharset(Buffer.from('\ufeff<p>x</p>'), 'iso-8859-2').source).toBe('bom');
    expect(detectCharset(Buffer.from('<p>x</p>'), 'ISO-8859-1')).toEqual({ charset: 'windows-1252', source: 'http' });
    expect(detectCharset(Buffer.from('<head><meta charset="koi8-r"></head>'), null)).toEqual({ charset: 'koi8-r', source: 'meta' });
    expect(detectCharset(Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'), null).charset).toBe('shift_jis');
    expect(detectCharset(Buffer.from('plain ascii and ütf-8'), null)).toEqual({ charset: 'utf-8', source: 'utf8' });
    const russian = iconv.encode('Съешь же ещё этих мягких французских булок, да выпей чаю. '.repeat(10), 'windows-1251');
    const sniffed = detectCharset(russian, null);
    expect(sniffed.source).toBe('sniffed');
    expect(decodeBody(russian, sniffed.charset)).toContain('французских булок');
  });

  it('decodes windows-1252 punctuation that a latin1 label hides', () => {
    const body = Buffer.from([0x93, 0x71, 0x75, 0x6f, 0x74, 0x65, 0x94]);
    const { charset } = detectCharset(body, 'iso-8859-1');
    expect(decodeBody(body, charset)).toBe('\u201cquote\u201d');
  });
});
