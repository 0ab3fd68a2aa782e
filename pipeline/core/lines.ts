/**
 * Line-oriented reading of plain or gzip files, with byte-exact line numbers and without
 * readline's overhead. A damaged gzip stream ends the lines early and is reported through
 * `onDamage`, keeping every line that came before the damage.
 */
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { errorMessage } from './errors.js';

export interface Line {
  /** 1-based. */
  number: number;
  text: string;
  /** False when the bytes were not valid UTF-8 (they were decoded with U+FFFD). */
  validUtf8: boolean;
  /** False for a last line cut off by damage (no newline and the stream broke). */
  complete: boolean;
  /** A line longer than `rawAbove` bytes comes as its bytes, and `text` is empty. */
  raw?: Buffer;
}

export interface ReadLinesOptions {
  /** Lines longer than this many bytes are not decoded (see `Line.raw`). */
  rawAbove?: number;
}

export const isGzipPath = (path: string) => path.endsWith('.gz');

function openBytes(path: string): NodeJS.ReadableStream {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!isGzipPath(path)) return file;
  const gunzip = createGunzip();
  file.on('error', (err) => gunzip.destroy(err));
  return file.pipe(gunzip);
}

export async function* readLines(path: string, onDamage: (reason: string) => void, options: ReadLinesOptions = {}): AsyncGenerator<Line> {
  const rawAbove = options.rawAbove ?? Infinity;
  // The start of a line that spans chunks, kept as a list and joined once at its newline:
  // joining at every chunk copied a long line again and again (a 200 MB line took 82 s).
  let pending: Buffer[] = [];
  let number = 0;
  const decode = (bytes: Buffer, complete: boolean): Line => {
    number++;
    let start = 0;
    if (number === 1 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3; // UTF-8 byte order mark
    const end = bytes.length > start && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length; // CRLF
    const body = bytes.subarray(start, end);
    if (body.length > rawAbove) return { number, text: '', raw: body, validUtf8: isUtf8(body), complete };
    return { number, text: body.toString('utf8'), validUtf8: isUtf8(body), complete };
  };
  const take = (last: Buffer): Buffer => {
    const whole = pending.length ? Buffer.concat([...pending, last]) : last;
    pending = [];
    return whole;
  };
  let damaged = false;
  try {
    for await (const chunk of openBytes(path) as AsyncIterable<Buffer>) {
      let start = 0;
      let nl = chunk.indexOf(10);
      if (nl === -1) {
        pending.push(chunk);
        continue;
      }
      if (pending.length) {
        yield decode(take(chunk.subarray(0, nl)), true);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      while (nl !== -1) {
        yield decode(chunk.subarray(start, nl), true);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
    }
  } catch (err) {
    damaged = true;
    onDamage(`${isGzipPath(path) ? 'damaged gzip stream' : 'read error'} after line ${number}: ${errorMessage(err)}`);
  }
  if (pending.length) yield decode(take(Buffer.alloc(0)), !damaged);
}

/** A whole (small) file as text, gunzipped when it ends in .gz. */
export async function readText(path: string, onDamage: (reason: string) => void): Promise<{ text: string; validUtf8: boolean }> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of openBytes(path) as AsyncIterable<Buffer>) parts.push(chunk);
  } catch (err) {
    onDamage(`${isGzipPath(path) ? 'damaged gzip stream' : 'read error'}: ${errorMessage(err)}`);
  }
  const bytes = Buffer.concat(parts);
  return { text: bytes.toString('utf8'), validUtf8: isUtf8(bytes) };
}
