/**
 * Token files for PyTorch trainers, made from tokenize's Arrow token shards (the same stream,
 * never encoded twice) by a reduce after the map phase:
 *
 *   --format nanogpt   OUT/nanogpt/train.bin, val.bin: every token id of the split, in shard
 *                      order, as flat little-endian uint16 (uint32 above 65,536 tokens), as
 *                      nanoGPT's prepare.py writes them; meta.pkl ({'vocab_size', 'dtype',
 *                      'eot'}, what train.py reads for the vocabulary) and the same in meta.json.
 *
 *   --format megatron  OUT/megatron/train_text_document.bin/.idx (and val_...): Megatron-LM's
 *                      indexed dataset (megatron/core/datasets/indexed_dataset.py), one sequence
 *                      per document with its <|endoftext|> (as preprocess_data.py --append-eod):
 *                        .bin  the tokens, uint16 (dtype code 8) when the vocabulary is under
 *                              65,500, else int32 (code 4): Megatron's DType.optimal_dtype
 *                        .idx  "MMIDIDX\x00\x00", version u64 = 1, dtype code u8, sequence count
 *                              u64, document count u64 (documents + 1), sequence lengths int32[],
 *                              sequence pointers int64[] (byte offsets into .bin), document
 *                              indices int64[] (0, 1, ..., documents)
 *
 * Documents are found by <|endoftext|>: the tokenizer never emits it for text (a document
 * containing "<|endoftext|>" is encoded as those characters), and tokenize ends every
 * document with it. Memory: one token shard at a time, and 4 bytes per document for Megatron.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/layout.js';
import { readTokenShard } from './token-shards.js';

export const TOKEN_FORMATS = ['arrow', 'nanogpt', 'megatron'] as const;
export type TokenFormat = (typeof TOKEN_FORMATS)[number];
export type TokenSplit = 'train' | 'val';

export const MEGATRON_HEADER = Buffer.from('MMIDIDX\x00\x00', 'latin1');
/** Megatron's DType codes (indexed_dataset.py). */
export const MEGATRON_DTYPE = { uint16: 8, int32: 4 } as const;

export const nanogptDtype = (vocabSize: number): 'uint16' | 'uint32' => (vocabSize > 65536 ? 'uint32' : 'uint16');
export const megatronDtype = (vocabSize: number): 'uint16' | 'int32' => (vocabSize < 65500 ? 'uint16' : 'int32');

/** The Arrow token shards of a split, in order. */
function shardsOf(out: string, split: TokenSplit): string[] {
  try {
    return readdirSync(join(out, split)).filter((n) => n.endsWith('.arrow') && !n.startsWith('.')).sort().map((n) => join(out, split, n));
  } catch {
    return [];
  }
}

/** Writes a file under a temporary name; renamed on close. */
class AtomicFile {
  private readonly tmp: string;
  private readonly fd: number;
  bytes = 0;
  constructor(private readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }
  write(view: ArrayBufferView): void {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at);
    this.bytes += bytes.length;
  }
  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}

/** The ids as the wanted element type (a view when it already is). */
function asType(ids: Uint16Array | Uint32Array, dtype: 'uint16' | 'uint32' | 'int32'): Uint16Array | Uint32Array | Int32Array {
  if (dtype === 'uint16') return ids instanceof Uint16Array ? ids : Uint16Array.from(ids);
  if (dtype === 'uint32') return ids instanceof Uint32Array ? ids : Uint32Array.from(ids);
  return Int32Array.from(ids);
}

export interface NanogptMeta {
  vocab_size: number;
  dtype: 'uint16' | 'uint32';
  eot: number;
  tokenizer: string;
  splits: Partial<Record<TokenSplit, { file: string; tokens: number }>>;
}

/**
 * A pickle (protocol 2) of a dict of str -> int | str, as nanoGPT's train.py reads meta.pkl
 * (`meta['vocab_size']`); written by hand so no Python is needed.
 */
export function pickleDict(entries: Record<string, number | string>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 0x02, 0x7d, 0x28])]; // PROTO 2, EMPTY_DICT, MARK
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return Buffer.concat([Buffer.from([0x58]), len, b]); // BINUNICODE
  };
  for (const [k, v] of Object.entries(entries)) {
    parts.push(str(k));
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new Error(`internal: pickleDict takes int32 values (${k} = ${v})`);
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(v, 1);
      parts.push(b);
    } else parts.push(str(v));
  }
  parts.push(Buffer.from([0x75, 0x2e])); // SETITEMS, STOP
  return Buffer.concat(parts);
}

/** OUT/nanogpt/{train,val}.bin, meta.pkl and meta.json. */
export function writeNanogpt(out: string, info: { vocabSize: number; eot: number; tokenizer: string }): NanogptMeta {
  const dir = join(out, 'nanogpt');
  mkdirSync(dir, { recursive: true });
  const dtype = nanogptDtype(info.vocabSize);
  const meta: NanogptMeta = { vocab_size: info.vocabSize, dtype, eot: info.eot, tokenizer: info.tokenizer, splits: {} };
  for (const split of ['train', 'val'] as const) {
    const shards = shardsOf(out, split);
    if (shards.length === 0) continue;
    const file = new AtomicFile(join(dir, `${split}.bin`));
    let tokens = 0;
    for (const shard of shards) {
      const { tokens: ids } = readTokenShard(shard);
      file.write(asType(ids, dtype));
      tokens += ids.length;
    }
    file.close();
    meta.splits[split] = { file: `${split}.bin`, tokens };
  }
  writeFileAtomic(join(dir, 'meta.pkl'), pickleDict({ vocab_size: info.vocabSize, dtype, eot: info.eot }));
  writeFileAtomic(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
  return meta;
}

export interface MegatronSplit {
  prefix: string;
  documents: number;
  tokens: number;
}

/** OUT/megatron/{train,val}_text_document.{bin,idx}. */
export function writeMegatron(out: string, info: { vocabSize: number; eot: number }): Partial<Record<TokenSplit, MegatronSplit>> {
  const dir = join(out, 'megatron');
  mkdirSync(dir, { recursive: true });
  const dtype = megatronDtype(info.vocabSize);
  const itemSize = 2 + Number(dtype === 'int32') * 2;
  const result: Partial<Record<TokenSplit, MegatronSplit>> = {};
  for (const split of ['train', 'val'] as const) {
    const shards = shardsOf(out, split);
    if (shards.length === 0) continue;
    const prefix = `${split}_text_document`;
    const bin = new AtomicFile(join(dir, `${prefix}.bin`));
    let lengths = new Int32Array(1 << 16);
    let documents = 0;
    let tokens = 0;
    for (const shard of shards) {
      const { tokens: ids } = readTokenShard(shard);
      bin.write(asType(ids, dtype));
      tokens += ids.length;
      let start = 0;
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] !== info.eot) continue;
        if (documents === lengths.length) {
          const grown = new Int32Array(lengths.length * 2);
          grown.set(lengths);
          lengths = grown;
        }
        lengths[documents++] = i + 1 - start;
        start = i + 1;
      }
      if (start !== ids.length) throw new Error(`${shard}: the token stream does not end with <|endoftext|> (${ids.length - start} tokens after the last)`);
    }
    bin.close();
    const idx = new AtomicFile(join(dir, `${prefix}.idx`));
    const head = Buffer.alloc(9 + 8 + 1 + 8 + 8);
    MEGATRON_HEADER.copy(head, 0);
    head.writeBigUInt64LE(1n, 9);
    head.writeUInt8(MEGATRON_DTYPE[dtype], 17);
    head.writeBigUInt64LE(BigInt(documents), 18);
    head.writeBigUInt64LE(BigInt(documents + 1), 26);
    idx.write(head);
    idx.write(lengths.subarray(0, documents));
    // Pointers (byte offsets of each sequence) and document indices (0..documents), in chunks.
    const CHUNK = 1 << 16;
    const chunk = new BigInt64Array(CHUNK);
    let pointer = 0n;
    for (let at = 0; at < documents; at += CHUNK) {
      const n = Math.min(CHUNK, documents - at);
      for (let i = 0; i < n; i++) {
        chunk[i] = pointer;
        pointer += BigInt(lengths[at + i] * itemSize);
      }
      idx.write(chunk.subarray(0, n));
    }
    for (let at = 0; at <= documents; at += CHUNK) {
      const n = Math.min(CHUNK, documents + 1 - at);
      for (let i = 0; i < n; i++) chunk[i] = BigInt(at + i);
      idx.write(chunk.subarray(0, n));
    }
    idx.close();
    result[split] = { prefix: join('megatron', prefix), documents, tokens };
  }
  return result;
}
