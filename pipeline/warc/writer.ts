/**
 * Writing standard WARC/1.0 files the way Common Crawl lays them out: one gzip member per
 * record (so every record is addressable by its compressed offset), a SHA-1 block digest,
 * and a file that only appears under its final name once it is complete.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface WarcRecordInput {
  type: 'warcinfo' | 'request' | 'response' | 'metadata' | 'resource' | 'revisit' | 'conversion';
  /** Header fields besides WARC-Type, Content-Length and WARC-Block-Digest, in the order given. */
  headers: Record<string, string>;
  content: Buffer;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export const sha1Digest = (content: Uint8Array) => `sha1:${base32(createHash('sha1').update(content).digest())}`;

/** The bytes of one record (uncompressed), with its trailing blank lines. */
export function encodeRecord(record: WarcRecordInput): Buffer {
  const lines = ['WARC/1.0', `WARC-Type: ${record.type}`];
  for (const [name, value] of Object.entries(record.headers)) lines.push(`${name}: ${value}`);
  lines.push(`WARC-Block-Digest: ${sha1Digest(record.content)}`, `Content-Length: ${record.content.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), record.content, Buffer.from('\r\n\r\n')]);
}

export class WarcWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private position = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly gzip = path.endsWith('.gz'),
  ) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }

  /** Append a record; returns where it starts (the offset of its gzip member) and its stored length. */
  write(record: WarcRecordInput): { offset: number; length: number } {
    const raw = encodeRecord(record);
    const bytes = this.gzip ? gzipSync(raw) : raw;
    writeSync(this.fd, bytes);
    const offset = this.position;
    this.position += bytes.length;
    return { offset, length: bytes.length };
  }

  get bytesWritten(): number {
    return this.position;
  }

  /** Flush and move the file to its final name. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    rmSync(this.tmp, { force: true });
  }
}

/** An RFC 4122 version-4 UUID as a WARC record id, from 16 random bytes (a seeded source makes it reproducible). */
export function recordId(random: Uint8Array): string {
  const b = Buffer.from(random.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `<urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}>`;
}
