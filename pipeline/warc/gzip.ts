/**
 * Gzip, member by member. Web archives compress each record as its own gzip member, and
 * the compressed offset of a member is how Common Crawl's index addresses a record, so
 * members are decoded one at a time (plain `createGunzip` hides the boundaries):
 *
 * - a member is inflated in one synchronous call from the reader's buffer; its CRC-32 and
 *   length are checked, and the next member starts right after its trailer;
 * - a member too big to hold (a whole file compressed as one member) is inflated as a
 *   stream instead, its records parsed as they come;
 * - damage never stops the file: garbage between members and corrupt members are skipped
 *   by scanning for the next gzip header that decodes, a truncated last member still gives
 *   whatever it holds, and every spot is reported with its offset.
 */
import { constants, createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import { errorMessage } from '../core/errors.js';
import { ByteReader } from './byte-reader.js';

const FIRST_WINDOW = 256 << 10;
/** Members bigger than this (compressed) are streamed rather than inflated in one call. */
const MAX_WINDOW = 64 << 20;
const STREAM_CHUNK = 64 << 10;

export interface MemberData {
  kind: 'member';
  /** Compressed offset of the member in the file. */
  offset: number;
  data: Buffer;
  /** The member was cut off (no trailer): `data` is what could be decoded. */
  truncated: boolean;
}

export interface MemberStream {
  kind: 'stream';
  offset: number;
  /** Decompressed bytes; read it to the end before asking for the next member. */
  reader: ByteReader;
}

export interface Damage {
  kind: 'damage';
  offset: number;
  reason: string;
}

export type GzipEvent = MemberData | MemberStream | Damage;

export const isGzip = (head: Uint8Array) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** Length of the gzip header at the start of `b`, -1 if `b` ends inside it, -2 if it is not a valid header. */
export function gzipHeaderLength(b: Buffer): number {
  if (b.length < 10) return -1;
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8 || (b[3] & 0xe0) !== 0) return -2;
  const flags = b[3];
  let pos = 10;
  if (flags & 4) {
    if (b.length < pos + 2) return -1;
    pos += 2 + b.readUInt16LE(pos);
  }
  for (const bit of [8, 16]) {
    if (flags & bit) {
      const zero = b.indexOf(0, pos);
      if (zero === -1) return -1;
      pos = zero + 1;
    }
  }
  if (flags & 2) pos += 2;
  return pos <= b.length ? pos : -1;
}

/** Offset (in `b`) of the next plausible gzip header after position 0, or -1. */
function nextHeader(b: Buffer, from: number): number {
  for (let i = b.indexOf(0x1f, from); i !== -1 && i + 3 < b.length; i = b.indexOf(0x1f, i + 1)) {
    if (b[i + 1] === 0x8b && b[i + 2] === 8 && (b[i + 3] & 0xe0) === 0) return i;
  }
  return -1;
}

type Inflated =
  | { ok: true; data: Buffer; consumed: number }
  | { ok: false; reason: string; partial: Buffer | null };

function inflateOnce(input: Buffer, maxOutput: number): Inflated {
  try {
    const r = inflateRawSync(input, { info: true, finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: maxOutput }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    return { ok: true, data: r.buffer, consumed: r.engine.bytesWritten };
  } catch (err) {
    return { ok: false, reason: errorMessage(err), partial: null };
  }
}

/** Decode as much as possible of a corrupt deflate stream (the stream API hands out output before failing). */
async function inflateUntilError(input: Buffer, maxOutput: number): Promise<Buffer> {
  const inflate = createInflateRaw();
  const parts: Buffer[] = [];
  let size = 0;
  inflate.on('data', (b: Buffer) => {
    if (size < maxOutput) parts.push(b);
    size += b.length;
  });
  await new Promise<void>((resolve) => {
    inflate.on('error', () => resolve());
    inflate.on('end', () => resolve());
    inflate.end(input);
  });
  return Buffer.concat(parts).subarray(0, maxOutput);
}

/** Inflate one member from the reader as a stream of decompressed chunks; leaves the reader after the deflate data. */
async function* inflateStream(raw: ByteReader, onDamage: (reason: string) => void): AsyncGenerator<Buffer> {
  const inflate = createInflateRaw({ chunkSize: 256 << 10 });
  const out: Buffer[] = [];
  let ended = false;
  let failure: string | null = null;
  inflate.on('data', (b: Buffer) => out.push(b));
  inflate.on('end', () => (ended = true));
  inflate.on('error', (e) => (failure = e.message));
  for (;;) {
    const chunk = await raw.peek(STREAM_CHUNK);
    if (chunk.length === 0) {
      onDamage('gzip member cut short (unexpected end of file)');
      break;
    }
    const before = inflate.bytesWritten;
    await new Promise<void>((resolve) => inflate.write(chunk, () => resolve()));
    // Let 'end' / 'error' land before deciding how much of the chunk was used.
    await new Promise((r) => setImmediate(r));
    while (out.length) yield out.shift() as Buffer;
    if (failure !== null) {
      raw.advance(chunk.length);
      onDamage(`corrupt gzip data: ${failure}`);
      break;
    }
    if (ended) {
      raw.advance(inflate.bytesWritten - before);
      break;
    }
    raw.advance(chunk.length);
  }
  inflate.destroy();
}

/**
 * The members of a gzip file, in order. `maxOutput` bounds the decompressed size held in
 * memory for one member; larger members are streamed.
 */
export async function* gzipMembers(raw: ByteReader, maxOutput: number, maxWindow = MAX_WINDOW): AsyncGenerator<GzipEvent> {
  for (;;) {
    let window = await raw.peek(Math.min(FIRST_WINDOW, maxWindow));
    if (window.length === 0) return;
    const offset = raw.position;
    const hlen = gzipHeaderLength(window);
    if (hlen === -2) {
      yield* resync(raw, 0, 'not a gzip member');
      continue;
    }
    if (hlen === -1) {
      yield { kind: 'damage', offset, reason: `gzip header cut short (${window.length} bytes at end of file)` };
      await raw.skip(window.length);
      return;
    }

    // Grow the window until the whole member (deflate data + 8-byte trailer) is in it.
    let size = Math.min(FIRST_WINDOW, maxWindow);
    let result: Inflated;
    for (;;) {
      result = inflateOnce(window.subarray(hlen), maxOutput);
      const atEof = window.length < size;
      if (!result.ok || hlen + result.consumed + 8 <= window.length || atEof || size >= maxWindow) break;
      size *= 4;
      window = await raw.peek(size);
    }

    if (!result.ok) {
      if (/larger than|too large/i.test(result.reason)) {
        // Too much output to hold: stream it (a whole file gzipped as one member, or a bomb).
        yield* streamMember(raw, offset, hlen);
        continue;
      }
      const partial = await inflateUntilError(window.subarray(hlen), maxOutput);
      yield { kind: 'damage', offset, reason: `corrupt gzip member: ${result.reason}` };
      if (partial.length > 0) yield { kind: 'member', offset, data: partial, truncated: true };
      yield* resync(raw, 1, null);
      continue;
    }

    const end = hlen + result.consumed;
    if (end + 8 > window.length) {
      if (window.length >= maxWindow && window.length === size) {
        // Bigger than the window and not at the end of the file: stream it.
        yield* streamMember(raw, offset, hlen);
        continue;
      }
      yield { kind: 'damage', offset, reason: 'gzip member cut short (unexpected end of file)' };
      yield { kind: 'member', offset, data: result.data, truncated: true };
      await raw.skip(window.length);
      return;
    }
    const crc = window.readUInt32LE(end);
    const isize = window.readUInt32LE(end + 4);
    if (crc32(result.data) !== crc || (result.data.length >>> 0) !== isize) {
      yield { kind: 'damage', offset, reason: 'corrupt gzip member (CRC-32 or length mismatch)' };
      yield* resync(raw, 1, null);
      continue;
    }
    yield { kind: 'member', offset, data: result.data, truncated: false };
    raw.advance(end + 8);
  }
}

async function* streamMember(raw: ByteReader, offset: number, hlen: number): AsyncGenerator<GzipEvent> {
  raw.advance(hlen);
  const damages: string[] = [];
  const reader = new ByteReader(inflateStream(raw, (r) => damages.push(r)));
  yield { kind: 'stream', offset, reader };
  await reader.skip(Number.MAX_SAFE_INTEGER); // whatever the consumer left unread
  for (const reason of damages) yield { kind: 'damage', offset, reason };
  if (damages.length > 0) yield* resync(raw, 0, null);
  else await raw.skip(8); // CRC-32 and length
}

/** Skip to the next gzip header that decodes, reporting the skipped span once. */
async function* resync(raw: ByteReader, from: number, reason: string | null): AsyncGenerator<Damage> {
  const start = raw.position;
  let skipFrom = from;
  for (;;) {
    const window = await raw.peek(1 << 20);
    const at = nextHeader(window, skipFrom);
    if (at !== -1) {
      const candidate = window.subarray(at);
      const hlen = gzipHeaderLength(candidate);
      const probe = hlen > 0 ? inflateOnce(candidate.subarray(hlen, hlen + (32 << 10)), 1 << 20) : null;
      if (hlen === -1 || (probe && probe.ok)) {
        raw.advance(at);
        if (raw.position > start) {
          yield { kind: 'damage', offset: start, reason: `${reason ?? 'undecodable bytes'}: ${raw.position - start} bytes skipped to the next gzip member` };
        }
        return;
      }
      skipFrom = at + 1;
      continue;
    }
    // Nothing in this window: drop it but keep the last 3 bytes (a header may straddle).
    const drop = Math.max(window.length - 3, 0);
    if (window.length < (1 << 20)) {
      await raw.skip(window.length);
      yield { kind: 'damage', offset: start, reason: `${reason ?? 'undecodable bytes'}: ${raw.position - start} bytes skipped to the end of the file` };
      return;
    }
    raw.advance(drop);
    skipFrom = 0;
  }
}
