/**
 * "Keep the top 10% by a score, over all inputs": a global decision made from per-task
 * files. A scoring pass writes each kept document's score and a tie-breaker (a hash of its
 * id) per task; the cut is the (score, tie) pair of the last document kept, so exactly the
 * asked share is kept even when many documents share a score, whichever task they are in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashString } from './hash.js';
import { layout, writeFileAtomic } from './layout.js';
import type { Doc } from './schema.js';
import type { Sink, SinkOptions } from './stage.js';

/** Where the kept share ends: documents at or above (score, tie) are in. */
export interface Cut {
  score: number;
  tie: number;
}
export interface TopCut extends Cut {
  /** Documents scored in all tasks, and how many the cut keeps. */
  scored: number;
  keep: number;
}

/** The tie-breaker of a document: stable across runs and machines. */
export const tieOf = (id: string) => hashString(id, 0, id.length, 0x2f6b1c3d);

/** In the top share: at or above the cut, ties broken by the id's hash. */
export const inTop = (score: number, tie: number, cut: Cut) => score > cut.score || (score === cut.score && tie >= cut.tie);

export const scoresFile = (dir: string, task: number) => join(dir, `${layout.partBase(task)}-scores.f64`);

/** Writes (score, tie) of every document it receives as float64 pairs, one file per task. */
export class ScoreSink implements Sink {
  rows = 0;
  private pairs = new Float64Array(2048);
  constructor(
    private readonly opts: SinkOptions,
    private readonly scoreOf: (doc: Doc) => number,
  ) {}
  write(doc: Doc): void {
    if (this.rows * 2 === this.pairs.length) {
      const grown = new Float64Array(this.pairs.length * 2);
      grown.set(this.pairs);
      this.pairs = grown;
    }
    const score = this.scoreOf(doc);
    if (!Number.isFinite(score)) throw new Error(`document ${doc.id}: score ${score} is not a finite number`);
    this.pairs[this.rows * 2] = score;
    this.pairs[this.rows * 2 + 1] = tieOf(doc.id);
    this.rows++;
  }
  publish(): string[] {
    const file = join(this.opts.dir, `${this.opts.base}-scores.f64`);
    writeFileAtomic(file, new Uint8Array(this.pairs.buffer, 0, this.rows * 16));
    return [file];
  }
  abort(): void {}
}

/** The (score, tie) pairs one task recorded. */
export function readPairs(dir: string, task: number): Float64Array {
  const bytes = readFileSync(scoresFile(dir, task));
  // A private copy: small Buffers share Node's pool, so their .buffer is not theirs alone.
  return new Float64Array(new Uint8Array(bytes).buffer);
}

/** The cut that keeps the top `share` (0..1) of the documents scored by `tasks` tasks in `dir`. */
export function topCut(dir: string, tasks: number, share: number): TopCut {
  const parts = Array.from({ length: tasks }, (_, t) => readPairs(dir, t));
  const scored = parts.reduce((n, p) => n + p.length / 2, 0);
  const keep = Math.min(scored, Math.ceil(scored * share - 1e-9));
  if (keep === 0) return { score: Number.POSITIVE_INFINITY, tie: Number.POSITIVE_INFINITY, scored, keep };
  const scores = new Float64Array(scored);
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i += 2) scores[at++] = p[i];
  scores.sort();
  const score = scores[scored - keep];
  // Of the documents with exactly the cut score, keep those with the highest ties.
  let above = 0;
  const ties: number[] = [];
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) {
      if (p[i] > score) above++;
      else if (p[i] === score) ties.push(p[i + 1]);
    }
  }
  ties.sort((a, b) => b - a);
  return { score, tie: ties[keep - above - 1], scored, keep };
}
