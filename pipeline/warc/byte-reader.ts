/**
 * A forward-only reader over a stream of byte chunks (a file, an HTTP body, a gunzip
 * stream) that can look ahead: `peek(n)` makes up to n bytes available as one contiguous
 * Buffer without consuming them. Parsers peek a header, decide, then `skip`.
 *
 * Refills read big blocks so that the tail carried over from the previous block is small
 * next to what is read: bytes are copied about once, whatever the record sizes.
 */
import { createReadStream } from 'node:fs';

const BLOCK = 8 << 20;
const EMPTY = Buffer.alloc(0);

export class ByteReader {
  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private done = false;
  private base = 0; // absolute offset of buf[0]
  private readonly source: AsyncIterator<Uint8Array> | null;

  constructor(
    source: AsyncIterable<Uint8Array> | null,
    private readonly block = BLOCK,
  ) {
    this.source = source ? source[Symbol.asyncIterator]() : null;
    if (!source) this.done = true;
  }

  static fromFile(path: string, start = 0): ByteReader {
    const reader = new ByteReader(createReadStream(path, { start, highWaterMark: 1 << 20 }));
    reader.base = start;
    return reader;
  }

  static fromBuffer(data: Buffer, offset = 0): ByteReader {
    const reader = new ByteReader(null);
    reader.buf = data;
    reader.end = data.length;
    reader.base = offset;
    return reader;
  }

  /** Absolute offset of the next unread byte. */
  get position(): number {
    return this.base + this.start;
  }

  /** Bytes available without reading more. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** True once the source is exhausted and every byte was consumed. */
  async atEnd(): Promise<boolean> {
    return (await this.peek(1)).length === 0;
  }

  /** Up to `n` bytes from the current position; fewer only at the end of the input. Valid until the next peek/skip. */
  async peek(n: number): Promise<Buffer> {
    if (this.end - this.start < n && !this.done) await this.fill(n);
    return this.buf.subarray(this.start, Math.min(this.end, this.start + n));
  }

  /** Consume `n` bytes (reading and discarding beyond what is buffered). Returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    for (;;) {
      const take = Math.min(left, this.end - this.start);
      this.start += take;
      left -= take;
      if (left === 0 || this.done) return n - left;
      // Discard whole chunks without copying them.
      this.base += this.end;
      this.buf = EMPTY;
      this.start = this.end = 0;
      const next = await (this.source as AsyncIterator<Uint8Array>).next();
      if (next.done) {
        this.done = true;
        return n - left;
      }
      this.buf = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      this.end = this.buf.length;
    }
  }

  /** Consume bytes already returned by the last peek (synchronous). */
  advance(n: number): void {
    if (n > this.end - this.start) throw new Error('advance past buffered data');
    this.start += n;
  }

  private async fill(n: number): Promise<void> {
    if (this.buf.length - this.start < n) this.moveTail(Math.max(n, this.block));
    while (this.end - this.start < n) {
      const chunk = await (this.source as AsyncIterator<Uint8Array>).next();
      if (chunk.done) {
        this.done = true;
        return;
      }
      const bytes = chunk.value;
      if (this.end + bytes.byteLength > this.buf.length) this.moveTail(Math.max(this.block, this.end - this.start + bytes.byteLength));
      this.buf.set(bytes, this.end);
      this.end += bytes.byteLength;
    }
  }

  /** Start a new block of `size` bytes holding the unread tail at its front. */
  private moveTail(size: number): void {
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.end);
    this.base += this.start;
    this.end -= this.start;
    this.start = 0;
    this.buf = next;
  }
}
