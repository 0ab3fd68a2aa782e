/** `refinery tokenizer ...` and `refinery tokenize` through the real CLI, on the Brown corpus. */
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

  it('refuses a tokenizer file that is not a byte-level BPE', () => {
    const r = cli(['tokenize', docs, '-o', join(dir, 'bad'), '--tokenizer', join(dir, 'brown', readdirSync(join(dir, 'brown'))[0])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not JSON/);
  });
});
