/**
 * Token shards: Arrow IPC files with one column, `tokens` (uint16, or uint32 for
 * vocabularies over 65,536), holding a stream of token ids in which documents follow each
 * other separated by <|endoftext|>. Record batches are slices of the stream, so a reader can
 * take any batch on its own:
 *
 *   pyarrow.ipc.open_file(path).read_all().column("tokens").to_numpy()
 *
 * The file metadata names the tokenizer (a hash of its tokenizer.json), the vocabulary
 * size, the end-of-text id and the documents, tokens and text bytes the file holds.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Field, RecordBatch, Schema, Struct, Uint16, Uint32, makeData, tableFromIPC } from 'apache-arrow';
import { UserError } from '../core/errors.js';
import { FdFileWriter } from '../core/shard-writer.js';

export const TOKEN_META = {
  format: 'refinery.tokens',
  tokenizer: 'refinery.tokenizer',
  vocabSize: 'refinery.vocab_size',
  endOfText: 'refinery.eot',
} as const;

const BATCH_TOKENS = 1 << 20;

export interface TokenShardInfo {
  tokenizer: string;
  vocabSize: number;
  endOfText: number;
}

/** Writes one token shard: ids appended, flushed in batches, published by rename. */
export class TokenShardWriter {
  private readonly wide: boolean;
  private buffer: Uint16Array | Uint32Array;
  private used = 0;
  private readonly writer: FdFileWriter;
  private readonly fd: number;
  private readonly tmp: string;
  private readonly schema: Schema;
  tokens = 0;

  constructor(
    private readonly path: string,
    info: TokenShardInfo,
  ) {
    this.wide = info.vocabSize > 65536;
    this.buffer = this.wide ? new Uint32Array(BATCH_TOKENS) : new Uint16Array(BATCH_TOKENS);
    const type = this.wide ? new Uint32() : new Uint16();
    this.schema = new Schema(
      [new Field('tokens', type, false)],
      new Map([
        [TOKEN_META.format, '1'],
        [TOKEN_META.tokenizer, info.tokenizer],
        [TOKEN_META.vocabSize, String(info.vocabSize)],
        [TOKEN_META.endOfText, String(info.endOfText)],
      ]),
    );
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
    this.writer = new FdFileWriter(this.fd);
    this.writer.reset(undefined, this.schema);
  }

  write(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      if (this.used === this.buffer.length) this.flush();
      this.buffer[this.used++] = ids[i];
    }
    this.tokens += ids.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    const values = this.buffer.slice(0, this.used);
    const type = this.wide ? new Uint32() : new Uint16();
    const child = makeData({ type, length: this.used, data: values });
    const struct = makeData({ type: new Struct(this.schema.fields), length: this.used, nullCount: 0, children: [child] });
    this.writer.write(new RecordBatch(this.schema, struct));
    this.writer.drain();
    this.used = 0;
  }

  /** Complete the file and move it to its final name. */
  publish(): string {
    this.flush();
    this.writer.finish();
    this.writer.drain();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    return this.path;
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.tmp, { force: true });
  }
}

/** The token ids of a shard as one array, and its metadata. */
export function readTokenShard(path: string): { tokens: Uint16Array | Uint32Array; info: TokenShardInfo } {
  let table;
  try {
    table = tableFromIPC(readFileSync(path));
  } catch (err) {
    throw new UserError(`${path}: not a readable Arrow file (${(err as Error).message})`);
  }
  const meta = table.schema.metadata;
  if (meta.get(TOKEN_META.format) !== '1') throw new UserError(`${path}: not a token shard (written by "refinery tokenize")`);
  const column = table.getChild('tokens');
  if (!column) throw new UserError(`${path}: no tokens column`);
  const wide = column.type instanceof Uint32;
  const tokens = wide ? new Uint32Array(table.numRows) : new Uint16Array(table.numRows);
  let at = 0;
  for (const chunk of column.data) {
    tokens.set(chunk.values.subarray(chunk.offset, chunk.offset + chunk.length) as Uint16Array & Uint32Array, at);
    at += chunk.length;
  }
  return {
    tokens,
    info: { tokenizer: meta.get(TOKEN_META.tokenizer) ?? '', vocabSize: Number(meta.get(TOKEN_META.vocabSize)), endOfText: Number(meta.get(TOKEN_META.endOfText)) },
  };
}
