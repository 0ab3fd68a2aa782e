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
}

export const isGzipPath = (path: string) => path.endsWith('.gz');

function openBytes(path: string): NodeJS.ReadableStream {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!isGzipPath(path)) return file;
  const gunzip = createGunzip();
  file.on('error', (err) => gunzip.destroy(err));
  return file.pipe(gunzip);
}

export async function* readLines(path: string, onDamage: (reason: string) => void): AsyncGenerator<Line> {
  let carry: Buffer = Buffer.alloc(0);
  let number = 0;
  const decode = (bytes: Buffer, complete: boolean): Line => {
    number++;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length; // CRLF
    const body = bytes.subarray(0, end);
    return { number, text: body.toString('utf8'), validUtf8: isUtf8(body), complete };
  };
  let damaged = false;
  try {
    for await (const chunk of openBytes(path) as AsyncIterable<Buffer>) {
      let start = 0;
      let nl = chunk.indexOf(10);
      if (nl === -1) {
        carry = carry.length ? Buffer.concat([carry, chunk]) : chunk;
        continue;
      }
      if (carry.length) {
        yield decode(Buffer.concat([carry, chunk.subarray(0, nl)]), true);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      while (nl !== -1) {
        yield decode(chunk.subarray(start, nl), true);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      carry = Buffer.from(chunk.subarray(start));
    }
  } catch (err) {
    damaged = true;
    onDamage(`${isGzipPath(path) ? 'damaged gzip stream' : 'read error'} after line ${number}: ${errorMessage(err)}`);
  }
  if (carry.length) yield decode(carry, !damaged);
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
