/**
 * A byte-level BPE tokenizer: encode text to token ids and back, exactly, and read and
 * write Hugging Face's `tokenizer.json` (ByteLevel pre-tokenizer and decoder, BPE model),
 * so a model trained here can be used by `tokenizers`/`transformers` and vice versa.
 *
 * Encoding: GPT-2 pieces; each piece's bytes start as byte tokens and the pair of lowest
 * merge rank is merged until none is left (a heap over a linked list for long pieces).
 * Pieces are cached, as web text repeats its words. Special tokens are never produced from
 * text (a document containing "<|endoftext|>" is encoded as those characters).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE, bytesText, textBytes } from './bytes.js';
import { forEachPiece } from './pretokenize.js';

export const END_OF_TEXT = '<|endoftext|>';

interface TokenizerJson {
  version?: string;
  added_tokens?: { id: number; content: string; special?: boolean }[];
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; use_regex?: boolean } | null;
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
}

const pairKey = (a: number, b: number) => a * 4194304 + b;
const CACHE_LIMIT = 500_000;
const SHORT = 48;

export class Tokenizer {
  /** Bytes of each id (specials: their UTF-8 text). */
  readonly tokenBytes: Uint8Array[];
  readonly specials: ReadonlyMap<string, number>;
  readonly vocabSize: number;
  /** The id of each single byte. */
  private readonly byteIds: Int32Array;
  /** (left, right) -> rank * 2^22 + merged id. */
  private readonly merges = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();

  constructor(tokenBytes: Uint8Array[], merges: readonly [number, number, number][], specials: ReadonlyMap<string, number>) {
    this.tokenBytes = tokenBytes;
    this.specials = specials;
    this.vocabSize = tokenBytes.length;
    this.byteIds = new Int32Array(256).fill(-1);
    tokenBytes.forEach((bytes, id) => {
      if (bytes.length === 1 && this.byteIds[bytes[0]] === -1 && ![...specials.values()].includes(id)) this.byteIds[bytes[0]] = id;
    });
    const missing = [...this.byteIds].findIndex((id) => id === -1);
    if (missing !== -1) throw new UserError(`tokenizer: no token for byte ${missing}; a byte-level tokenizer needs all 256`);
    merges.forEach(([a, b, id], rank) => this.merges.set(pairKey(a, b), rank * 4194304 + id));
  }

  /** The id of a special token such as <|endoftext|>. */
  special(name: string): number {
    const id = this.specials.get(name);
    if (id === undefined) throw new UserError(`tokenizer: no special token ${name} (has: ${[...this.specials.keys()].join(', ') || 'none'})`);
    return id;
  }

  /**
   * This tokenizer with `names` added as special tokens, their ids appended after the last one:
   * every existing id, merge and encoding stays as it was (names it already has are kept as they are).
   */
  withSpecials(names: readonly string[]): Tokenizer {
    const specials = new Map(this.specials);
    const tokenBytes = [...this.tokenBytes];
    for (const name of names) {
      if (!name) throw new UserError('tokenizer: a special token cannot be empty');
      if (specials.has(name)) continue;
      specials.set(name, tokenBytes.length);
      tokenBytes.push(Buffer.from(name, 'utf8'));
    }
    const merges = [...this.merges.entries()]
      .sort((x, y) => x[1] - y[1])
      .map(([k, m]): [number, number, number] => [Math.floor(k / 4194304), k % 4194304, m % 4194304]);
    return new Tokenizer(tokenBytes, merges, specials);
  }

  /** Token ids of `text`, appended to `out`. */
  encodeInto(text: string, out: number[]): void {
    forEachPiece(text, (piece) => {
      const cached = this.cache.get(piece);
      if (cached) {
        for (const id of cached) out.push(id);
        return;
      }
      const ids = this.encodePiece(textBytes(piece));
      if (piece.length <= SHORT) {
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    });
  }

  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let length = 0;
    for (let i = 0; i < ids.length; i++) length += this.bytesOf(ids[i]).length;
    const bytes = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytesOf(ids[i]);
      bytes.set(b, at);
      at += b.length;
    }
    return bytesText(bytes);
  }

  private bytesOf(id: number): Uint8Array {
    const b = this.tokenBytes[id];
    if (!b) throw new UserError(`tokenizer: id ${id} is outside the vocabulary (${this.vocabSize})`);
    return b;
  }

  private encodePiece(bytes: Uint8Array): number[] {
    const ids = Array.from(bytes, (b) => this.byteIds[b]);
    return ids.length <= SHORT ? this.mergeShort(ids) : this.mergeLong(ids);
  }

  /** Repeatedly merge the lowest-ranked pair: quadratic, fastest for short pieces. */
  private mergeShort(ids: number[]): number[] {
    for (;;) {
      let best = Number.POSITIVE_INFINITY;
      let at = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const m = this.merges.get(pairKey(ids[i], ids[i + 1]));
        if (m !== undefined && m < best) [best, at] = [m, i];
      }
      if (at === -1) return ids;
      ids.splice(at, 2, best % 4194304);
    }
  }

  /** The same merges with a linked list and a heap of candidate pairs: n log n for long pieces. */
  private mergeLong(ids: number[]): number[] {
    const n = ids.length;
    const sym = Int32Array.from(ids);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) [next[i], prev[i]] = [i + 1 < n ? i + 1 : -1, i - 1];
    // Heap entries: rank-and-id (as in `merges`) and the left position; smaller first, then leftmost.
    const heapM: number[] = [];
    const heapP: number[] = [];
    const less = (i: number, j: number) => heapM[i] < heapM[j] || (heapM[i] === heapM[j] && heapP[i] < heapP[j]);
    const push = (m: number, p: number) => {
      heapM.push(m);
      heapP.push(p);
      for (let i = heapM.length - 1; i > 0; ) {
        const q = (i - 1) >> 1;
        if (!less(i, q)) break;
        [heapM[i], heapM[q], heapP[i], heapP[q]] = [heapM[q], heapM[i], heapP[q], heapP[i]];
        i = q;
      }
    };
    const pop = () => {
      const top = [heapM[0], heapP[0]];
      const m = heapM.pop() as number;
      const p = heapP.pop() as number;
      if (heapM.length > 0) {
        heapM[0] = m;
        heapP[0] = p;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          let s = i;
          if (l < heapM.length && less(l, s)) s = l;
          if (l + 1 < heapM.length && less(l + 1, s)) s = l + 1;
          if (s === i) break;
          [heapM[i], heapM[s], heapP[i], heapP[s]] = [heapM[s], heapM[i], heapP[s], heapP[i]];
          i = s;
        }
      }
      return top;
    };
    const consider = (p: number) => {
      const q = next[p];
      if (p < 0 || q < 0) return;
      const m = this.merges.get(pairKey(sym[p], sym[q]));
      if (m !== undefined) push(m, p);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heapM.length > 0) {
      const [m, p] = pop();
      const q = next[p];
      // Stale: the left symbol was merged away, or its pair is no longer this one.
      if (sym[p] < 0 || q < 0 || this.merges.get(pairKey(sym[p], sym[q])) !== m) continue;
      sym[p] = m % 4194304;
      sym[q] = -1;
      next[p] = next[q];
      if (next[q] >= 0) prev[next[q]] = p;
      if (prev[p] >= 0) consider(prev[p]);
      consider(p);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
    return out;
  }

  // ------------------------------------------------------------------------ tokenizer.json

  toJson(): string {
    const specialIds = new Set(this.specials.values());
    const name = (id: number) => Array.from(this.tokenBytes[id], (b) => BYTE_TO_CHAR[b]).join('');
    const vocab: Record<string, number> = {};
    this.tokenBytes.forEach((_, id) => {
      if (!specialIds.has(id)) vocab[name(id)] = id;
    });
    const merges = [...this.merges.entries()]
      .sort((x, y) => x[1] - y[1])
      .map(([k]) => `${name(Math.floor(k / 4194304))} ${name(k % 4194304)}`);
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const json = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [...this.specials].map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
    };
    return `${JSON.stringify(json, null, 1)}\n`;
  }

  static fromJson(text: string, where = 'tokenizer.json'): Tokenizer {
    let json: TokenizerJson;
    try {
      json = JSON.parse(text) as TokenizerJson;
    } catch (err) {
      throw new UserError(`${where}: not JSON (${(err as Error).message})`);
    }
    if (json.model?.type !== 'BPE' || !json.model.vocab || !json.model.merges) throw new UserError(`${where}: not a BPE tokenizer (model.type ${json.model?.type ?? 'missing'})`);
    if (json.pre_tokenizer?.type !== 'ByteLevel') throw new UserError(`${where}: refinery reads byte-level BPE tokenizers (pre_tokenizer ByteLevel); this one has ${json.pre_tokenizer?.type ?? 'none'}`);
    if (json.pre_tokenizer.add_prefix_space) throw new UserError(`${where}: add_prefix_space is not supported`);
    const size = Math.max(...Object.values(json.model.vocab), ...(json.added_tokens ?? []).map((t) => t.id)) + 1;
    const tokenBytes: Uint8Array[] = new Array<Uint8Array>(size);
    for (const [token, id] of Object.entries(json.model.vocab)) {
      const bytes = Array.from(token, (ch) => {
        const b = CHAR_TO_BYTE.get(ch);
        if (b === undefined) throw new UserError(`${where}: vocabulary entry ${JSON.stringify(token)} is not byte-level`);
        return b;
      });
      tokenBytes[id] = Uint8Array.from(bytes);
    }
    const specials = new Map<string, number>();
    for (const t of json.added_tokens ?? []) {
      specials.set(t.content, t.id);
      tokenBytes[t.id] ??= Buffer.from(t.content, 'utf8');
    }
    for (let id = 0; id < size; id++) if (!tokenBytes[id]) throw new UserError(`${where}: no token has id ${id}`);
    const vocab = json.model.vocab;
    const merges = json.model.merges.map((m, i): [number, number, number] => {
      const [l, r] = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
      const a = vocab[l];
      const b = vocab[r];
      const merged = vocab[l + r];
      if (a === undefined || b === undefined || merged === undefined) throw new UserError(`${where}: merge ${i} (${JSON.stringify(m)}) names tokens that are not in the vocabulary`);
      return [a, b, merged];
    });
    return new Tokenizer(tokenBytes, merges, specials);
  }

  static load(file: string): Tokenizer {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(`${file}: cannot read (${(err as Error).message})`);
    }
    return Tokenizer.fromJson(text, file);
  }
}
