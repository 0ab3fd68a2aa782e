/**
 * Bench `dedup-copycat`: MinHash-LSH against human judgments of Common Crawl page pairs
 * (ChatNoir CopyCat, ../shared/data/neardup-copycat-judgments). Label 3 = judged a
 * (near-)duplicate; 0.5, 1 and 2 = judged less similar; "unknown" pairs are left out.
 * Reports, per LSH setting, the recall on label-3 pairs and the share of other pairs flagged,
 * next to the pairs' true 5-shingle Jaccard similarity.
 *
 *   npm run bench -- dedup-copycat
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectionProbability, MinHasher } from '../pipeline/dedup/minhash.js';
import { jaccard, wordShingles } from '../pipeline/text/normalize.js';
import { sharedDataDir } from './extraction-data.js';

interface Pair {
  label_raw: string;
  src_doc: string;
  target_doc: string;
}

const SETTINGS = [
  { bands: 14, rows: 8, note: 'datatrove default (threshold ~0.72)' },
  { bands: 20, rows: 5, note: 'looser (threshold ~0.55)' },
  { bands: 9, rows: 13, note: 'stricter (threshold ~0.84)' },
];

export async function main(): Promise<void> {
  const file = join(sharedDataDir(), 'neardup-copycat-judgments', 'pairs.jsonl');
  const pairs = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Pair)
    .map((p) => ({ ...p, label: p.label_raw.trim() }))
    .filter((p) => ['0.5', '1', '2', '3'].includes(p.label));
  const labels = ['3', '2', '1', '0.5'];
  const sims = pairs.map((p) => jaccard(wordShingles(p.src_doc), wordShingles(p.target_doc)));
  console.log(`dedup-copycat: ${pairs.length} judged pairs (${labels.map((l) => `label ${l}: ${pairs.filter((p) => p.label === l).length}`).join(', ')})`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log(`mean 5-shingle Jaccard by label: ${labels.map((l) => `${l}: ${mean(sims.filter((_, i) => pairs[i].label === l)).toFixed(2)}`).join(', ')}`);

  const rows = [['bands x rows', 'recall (label 3)', 'flagged: label 2', 'label 1', 'label 0.5', 'all non-3', 'expected recall', 'setting']];
  for (const s of SETTINGS) {
    const hasher = new MinHasher({ bands: s.bands, rows: s.rows, shingle: 5, bits: 64, seed: 1 });
    const flagged = pairs.map((p) => {
      const x = hasher.signature(p.src_doc);
      const y = hasher.signature(p.target_doc);
      if (!x || !y) return false;
      const kx = hasher.bandKeys(x.slice());
      const ky = hasher.bandKeys(y);
      for (let b = 0; b < kx.length; b += 2) if (kx[b] === ky[b] && kx[b + 1] === ky[b + 1]) return true;
      return false;
    });
    const share = (pred: (l: string) => boolean) => {
      const idx = pairs.map((p, i) => (pred(p.label) ? i : -1)).filter((i) => i >= 0);
      return `${idx.filter((i) => flagged[i]).length}/${idx.length} (${((100 * idx.filter((i) => flagged[i]).length) / idx.length).toFixed(0)}%)`;
    };
    const expected = mean(sims.filter((_, i) => pairs[i].label === '3').map((j) => detectionProbability(j, s.bands, s.rows)));
    rows.push([`${s.bands} x ${s.rows}`, share((l) => l === '3'), share((l) => l === '2'), share((l) => l === '1'), share((l) => l === '0.5'), share((l) => l !== '3'), `${(100 * expected).toFixed(0)}%`, s.note]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 || c === 7 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}
