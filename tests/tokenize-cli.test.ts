/** `refinery tokenizer ...` and `refinery tokenize` through the real CLI, on the Brown corpus. */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrownJsonl } from '../datasets/brown.js';
import { inValidation } from '../pipeline/core/split.js';
import { readTokenShard } from '../pipeline/tokenize/token-shards.js';
import { Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import type { TokensSummary } from '../pipeline/tokenize/index.js';
import { accountingViolations, readTaskStats, sumStats } from '../pipeline/core/stats.js';
import { cleanup, cli, cliOk, readDocs, tempDir } from './helpers/cli.js';
import { python, pythonMissing } from './helpers/python.js';

const dir = tempDir();
const docs = join(dir, 'docs');
const tok = join(dir, 'tok.json');
afterAll(() => cleanup(dir));


beforeAll(() => {
  writeBrownJsonl(join(dir, 'brown'));
  cliOk(['import', join(dir, 'brown'), '-o', docs, '--progress', 'off']);
  cliOk(['tokenizer', 'train', docs, '-o', tok, '--vocab', '3000']);
}, 60_000);

describe('refinery tokenizer', () => {
  it('trains a tokenizer.json of the asked size with <|endoftext|> last', () => {
    const json = JSON.parse(readFileSync(tok, 'utf8')) as { model: { vocab: Record<string, number>; merges: string[] }; added_tokens: { id: number; content: string }[] };
    expect(Object.keys(json.model.vocab)).toHaveLength(2999);
    expect(json.model.merges).toHaveLength(2999 - 256);
    expect(json.added_tokens).toEqual([expect.objectContaining({ id: 2999, content: '<|endoftext|>', special: true })]);
    expect(json.model.vocab['Ġthe']).toBeDefined();
  });

  it('encodes and decodes one text', () => {
    const text = 'The jury said, "It\'s done."';
    const ids = cliOk(['tokenizer', 'encode', '--tokenizer', tok, '--text', text]).stdout.trim();
    expect(ids).toMatch(/^\d+( \d+)+$/);
    expect(cliOk(['tokenizer', 'decode', '--tokenizer', tok, ids]).stdout).toBe(`${text}\n`);
    const r = cli(['tokenizer', 'decode', '--tokenizer', tok, '99999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/id 99999 is outside the vocabulary \(3000\)/);
  });
});

describe('refinery tokenize', () => {
  it('writes token streams that decode back to the documents, with a disjoint validation split by id', async () => {
    const out = join(dir, 'tokens');
    cliOk(['tokenize', docs, '-o', out, '--tokenizer', tok, '--val', '10%', '--progress', 'off']);
    const stats = readTaskStats(out);
    expect(stats.flatMap(accountingViolations)).toEqual([]);
    expect(sumStats(stats).docs_kept).toBe(500);
    const summary = JSON.parse(readFileSync(join(out, '_tokens.json'), 'utf8')) as TokensSummary;
    const tokenizer = Tokenizer.load(tok);
    const all = await readDocs(docs);
    for (const split of ['train', 'val'] as const) {
      const expected = all.filter((d) => inValidation(d.id, 0.1) === (split === 'val'));
      const texts: string[] = [];
      let tokens = 0;
      for (const file of readdirSync(join(out, split)).sort()) {
        const shard = readTokenShard(join(out, split, file));
        expect(shard.info.vocabSize).toBe(3000);
        expect(shard.tokens).toBeInstanceOf(Uint16Array);
        tokens += shard.tokens.length;
        // Documents are separated by <|endoftext|>, one after each.
        let start = 0;
        for (let i = 0; i < shard.tokens.length; i++) {
          if (shard.tokens[i] === shard.info.endOfText) {
            texts.push(tokenizer.decode(shard.tokens.subarray(start, i)));
            start = i + 1;
          }
        }
        expect(start).toBe(shard.tokens.length);
      }
      expect(texts).toEqual(expected.map((d) => d.text));
      expect(summary.splits[split].documents).toBe(expected.length);
      expect(summary.splits[split].tokens).toBe(tokens);
      expect(summary.splits[split].bytes).toBe(expected.reduce((n, d) => n + Buffer.byteLength(String(d.text)), 0));
    }
    expect(summary.splits.val.documents).toBeGreaterThan(20);
    // Another Arrow implementation reads the same stream.
    const first = join(out, 'train', readdirSync(join(out, 'train')).sort()[0]);
    const frame = pl.readIPC(readFileSync(first));
    expect(frame.getColumn('tokens').toArray()).toEqual(Array.from(readTokenShard(first).tokens));
  }, 60_000);

  it('refuses --format nanogpt without --val (nanoGPT reads train.bin and val.bin)', () => {
    const r = cli(['tokenize', docs, '-o', join(dir, 'nv'), '--tokenizer', tok, '--format', 'nanogpt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give --val/);
  });

  it('refuses a tokenizer file that is not a byte-level BPE', () => {
    const r = cli(['tokenize', docs, '-o', join(dir, 'bad'), '--tokenizer', join(dir, 'brown', readdirSync(join(dir, 'brown'))[0])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not JSON/);
  });
});

/** Each document's token ids and <|endoftext|>, per split, as tokenize decides them. */
let expectedCache: Promise<Record<'train' | 'val', number[][]>> | null = null;
const expectedSequences = (share: number) => (expectedCache ??= encodeAll(share));
async function encodeAll(share: number): Promise<Record<'train' | 'val', number[][]>> {
  const tokenizer = Tokenizer.load(tok);
  const eot = tokenizer.special('<|endoftext|>');
  const all = await readDocs(docs);
  const seqs = { train: [] as number[][], val: [] as number[][] };
  // Shard order, then document order: as the map phase writes them.
  for (const d of all) seqs[share > 0 && inValidation(d.id, share) ? 'val' : 'train'].push([...tokenizer.encode(String(d.text)), eot]);
  return seqs;
}

/** Megatron-LM's indexed dataset (megatron/core/datasets/indexed_dataset.py), read from its published layout. */
function readMegatron(prefix: string): { dtypeCode: number; documents: number[][] } {
  const idx = readFileSync(`${prefix}.idx`);
  expect(idx.subarray(0, 9).toString('latin1')).toBe('MMIDIDX\x00\x00');
  expect(idx.readBigUInt64LE(9)).toBe(1n);
  const dtypeCode = idx.readUInt8(17);
  const sequences = Number(idx.readBigUInt64LE(18));
  const docCount = Number(idx.readBigUInt64LE(26));
  let at = 34;
  const lengths = Array.from({ length: sequences }, (_, i) => idx.readInt32LE(at + 4 * i));
  at += 4 * sequences;
  const pointers = Array.from({ length: sequences }, (_, i) => Number(idx.readBigInt64LE(at + 8 * i)));
  at += 8 * sequences;
  const docIndices = Array.from({ length: docCount }, (_, i) => Number(idx.readBigInt64LE(at + 8 * i)));
  at += 8 * docCount;
  expect(at).toBe(idx.length);
  const size = { 8: 2, 4: 4 }[dtypeCode] as number;
  const bin = readFileSync(`${prefix}.bin`);
  const sequence = (s: number) =>
    Array.from({ length: lengths[s] }, (_, i) => (size === 2 ? bin.readUInt16LE(pointers[s] + 2 * i) : bin.readInt32LE(pointers[s] + 4 * i)));
  const documents: number[][] = [];
  for (let d = 0; d + 1 < docIndices.length; d++) {
    const doc: number[] = [];
    for (let s = docIndices[d]; s < docIndices[d + 1]; s++) doc.push(...sequence(s));
    documents.push(doc);
  }
  expect(docIndices[0]).toBe(0);
  expect(docIndices[docIndices.length - 1]).toBe(sequences);
  return { dtypeCode, documents };
}

const NUMPY = `
import hashlib, json, pickle, sys
import numpy as np
d = sys.argv[1]
meta = pickle.load(open(f"{d}/meta.pkl", "rb"))
meta_json = json.load(open(f"{d}/meta.json"))
out = {"meta": meta, "json_dtype": meta_json["dtype"]}
for split in ("train", "val"):
    arr = np.memmap(f"{d}/{split}.bin", dtype=np.dtype(meta["dtype"]), mode="r")
    # The ids as uint32 little-endian, hashed: a million ids compare faster as one digest.
    out[split] = {"count": int(arr.shape[0]), "sha256": hashlib.sha256(np.asarray(arr, dtype="<u4").tobytes()).hexdigest(), "head": arr[:50].tolist()}
print(json.dumps(out))
`;

const numpyMissing = pythonMissing(['numpy']);
describe('refinery tokenize --format, for PyTorch trainers', () => {
  it.skipIf(numpyMissing)(`nanogpt: numpy memmaps train.bin / val.bin with the dtype from meta.pkl and gets the exact token ids${numpyMissing ? ` (skipped: ${numpyMissing})` : ''}`, async () => {
    const out = join(dir, 'nanogpt');
    cliOk(['tokenize', docs, '-o', out, '--tokenizer', tok, '--val', '10%', '--format', 'nanogpt', '--progress', 'off']);
    type Ids = { count: number; sha256: string; head: number[] };
    const read = python<{ meta: { vocab_size: number; dtype: string; eot: number }; json_dtype: string; train: Ids; val: Ids }>(NUMPY, [join(out, 'nanogpt')]);
    const digest = (ids: ArrayLike<number>) => ({ count: ids.length, sha256: createHash('sha256').update(Uint32Array.from(ids)).digest('hex'), head: Array.from(ids).slice(0, 50) });
    expect(read.meta).toEqual({ vocab_size: 3000, dtype: 'uint16', eot: 2999 });
    expect(read.json_dtype).toBe('uint16');
    const expected = await expectedSequences(0.1);
    for (const split of ['train', 'val'] as const) {
      expect(read[split]).toEqual(digest(expected[split].flat()));
      // The same stream as the Arrow token shards.
      const arrow = readdirSync(join(out, split)).sort().flatMap((f) => Array.from(readTokenShard(join(out, split, f)).tokens));
      expect(read[split]).toEqual(digest(arrow));
    }
    const summary = JSON.parse(readFileSync(join(out, '_tokens.json'), 'utf8')) as TokensSummary;
    expect(summary.nanogpt?.splits.train?.tokens).toBe(expected.train.flat().length);
  }, 60_000);

  it('megatron: a reader of the published .idx layout recovers every document\'s tokens', async () => {
    const out = join(dir, 'megatron');
    cliOk(['tokenize', docs, '-o', out, '--tokenizer', tok, '--val', '10%', '--format', 'megatron', '--progress', 'off']);
    const expected = await expectedSequences(0.1);
    for (const split of ['train', 'val'] as const) {
      const { dtypeCode, documents } = readMegatron(join(out, 'megatron', `${split}_text_document`));
      expect(dtypeCode).toBe(8); // uint16: the vocabulary is under 65,500
      expect(documents).toEqual(expected[split]);
    }
  }, 60_000);
});
