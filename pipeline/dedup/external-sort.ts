/**
 * Sorting fixed-size records by a 64-bit key within a memory budget: records gather in
 * memory, are radix-sorted and spilled as sorted runs when the budget fills, and the runs
 * are merged while reading. Records are `words` uint32 each; the key is words 0 (high) and
 * 1 (low).
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** LSD radix sort of record indices by the 64-bit key, 16 bits at a time (4 passes). */
function radixOrder(records: Uint32Array, words: number, n: number): Uint32Array {
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const counts = new Uint32Array(65536);
  for (const [word, shift] of [[1, 0], [1, 16], [0, 0], [0, 16]] as const) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(records[order[i] * words + word] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const idx = order[i];
      next[counts[(records[idx * words + word] >>> shift) & 0xffff]++] = idx;
    }
    [order, next] = [next, order];
  }
  return order;
}

/** Sorted copy of the first n records. */
function sortRecords(records: Uint32Array, words: number, n: number): Uint32Array {
  const order = radixOrder(records, words, n);
  const out = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) out.set(records.subarray(order[i] * words, order[i] * words + words), i * words);
  return out;
}

const BLOCK_RECORDS = 1 << 16;

class RunReader {
  private buf: Uint32Array;
  private count = 0;
  private pos = 0;
  private fileOffset = 0;
  done = false;

  constructor(
    private readonly fd: number,
    private readonly words: number,
  ) {
    this.buf = new Uint32Array(BLOCK_RECORDS * words);
    this.fill();
  }

  private fill(): void {
    const bytes = readSync(this.fd, new Uint8Array(this.buf.buffer), 0, this.buf.byteLength, this.fileOffset);
    this.fileOffset += bytes;
    this.count = bytes / (4 * this.words);
    this.pos = 0;
    if (this.count === 0) this.done = true;
  }

  get hi(): number {
    return this.buf[this.pos * this.words];
  }
  get lo(): number {
    return this.buf[this.pos * this.words + 1];
  }
  current(): Uint32Array {
    return this.buf.subarray(this.pos * this.words, this.pos * this.words + this.words);
  }
  advance(): void {
    if (++this.pos >= this.count) this.fill();
  }
}

export class ExternalSorter {
  private buf: Uint32Array;
  private n = 0;
  private readonly capacity: number;
  private readonly runs: string[] = [];

  /** `budgetBytes` covers the buffer and the sort's index arrays (4 + 4 + 4 * words bytes a record, twice for the copy). */
  constructor(
    private readonly words: number,
    budgetBytes: number,
    private readonly tmpDir: string,
  ) {
    this.capacity = Math.max(1024, Math.floor(budgetBytes / (8 + 8 * words)));
    this.buf = new Uint32Array(Math.min(this.capacity, 1 << 16) * words);
    mkdirSync(tmpDir, { recursive: true });
  }

  get spilledRuns(): number {
    return this.runs.length;
  }

  push(record: ArrayLike<number>): void {
    if (this.n === this.capacity) this.spill();
    if ((this.n + 1) * this.words > this.buf.length) {
      const grown = new Uint32Array(Math.min(this.capacity, this.buf.length / this.words * 2) * this.words);
      grown.set(this.buf);
      this.buf = grown;
    }
    for (let k = 0; k < this.words; k++) this.buf[this.n * this.words + k] = record[k];
    this.n++;
  }

  private spill(): void {
    const sorted = sortRecords(this.buf, this.words, this.n);
    const path = join(this.tmpDir, `run-${this.runs.length}.bin`);
    const fd = openSync(path, 'w');
    writeSync(fd, new Uint8Array(sorted.buffer, 0, sorted.byteLength));
    closeSync(fd);
    this.runs.push(path);
    this.n = 0;
  }

  /** All records in key order, in blocks (each valid until the next is requested). */
  *sorted(): Generator<Uint32Array> {
    if (this.runs.length === 0) {
      const sorted = sortRecords(this.buf, this.words, this.n);
      for (let i = 0; i < this.n; i += BLOCK_RECORDS) yield sorted.subarray(i * this.words, Math.min(this.n, i + BLOCK_RECORDS) * this.words);
      return;
    }
    if (this.n > 0) this.spill();
    this.buf = new Uint32Array(0);
    const fds = this.runs.map((p) => openSync(p, 'r'));
    try {
      const readers = fds.map((fd) => new RunReader(fd, this.words)).filter((r) => !r.done);
      const out = new Uint32Array(BLOCK_RECORDS * this.words);
      let filled = 0;
      // A linear scan for the smallest head: the number of runs stays small (memory / budget).
      while (readers.length > 0) {
        let best = 0;
        for (let i = 1; i < readers.length; i++) {
          const a = readers[i];
          const b = readers[best];
          if (a.hi < b.hi || (a.hi === b.hi && a.lo < b.lo)) best = i;
        }
        out.set(readers[best].current(), filled * this.words);
        readers[best].advance();
        if (readers[best].done) readers.splice(best, 1);
        if (++filled === BLOCK_RECORDS) {
          yield out;
          filled = 0;
        }
      }
      if (filled > 0) yield out.subarray(0, filled * this.words);
    } finally {
      for (const fd of fds) closeSync(fd);
      for (const p of this.runs) rmSync(p, { force: true });
    }
  }
}
