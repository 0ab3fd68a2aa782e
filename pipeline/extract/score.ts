/**
 * Scoring extractions against gold, as the public benchmarks define it.
 *
 * Article Extraction Benchmark (Zyte/Scrapinghub): word 4-gram shingles (tokens are \w+
 * runs), true/false positives and negatives counted per page and normalised by their sum,
 * precision and recall averaged over pages, F1 from the two averages.
 *
 * Trafilatura's evaluation: a page is right when every "with" snippet is in the text and no
 * "without" snippet is (whitespace normalised).
 */
const TOKEN = /[\p{L}\p{N}_]+/gu; // Python's \w with re.UNICODE

function shingles(text: string, n = 4): Map<string, number> {
  const tokens = text.match(TOKEN) ?? [];
  const counts = new Map<string, number>();
  for (let i = 0; i < Math.max(1, tokens.length - n + 1); i++) {
    const key = tokens.slice(i, i + n).join(' ');
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export type TpFpFn = [number, number, number];

/** Shingle (word n-gram, n = 4 by default as AEB) true/false positives and negatives; n = 1 gives token F1. */
export function shingleMatch(truth: string, prediction: string, n = 4): TpFpFn {
  const t = shingles(truth, n);
  const p = shingles(prediction, n);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const key of new Set([...t.keys(), ...p.keys()])) {
    const a = t.get(key) ?? 0;
    const b = p.get(key) ?? 0;
    tp += Math.min(a, b);
    fp += Math.max(0, b - a);
    fn += Math.max(0, a - b);
  }
  const sum = tp + fp + fn;
  return sum > 0 ? [tp / sum, fp / sum, fn / sum] : [0, 0, 0];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function aebMetrics(pages: readonly TpFpFn[]): { precision: number; recall: number; f1: number } {
  const precision = mean(pages.filter(([tp, fp]) => tp + fp > 0).map(([tp, fp, fn]) => (fp === 0 && fn === 0 ? 1 : tp / (tp + fp))));
  const recall = mean(pages.filter(([tp, , fn]) => tp + fn > 0).map(([tp, fp, fn]) => (fp === 0 && fn === 0 ? 1 : tp / (tp + fn))));
  return { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Trafilatura-eval: are all "with" snippets in the text and no "without" snippet? */
export function snippetsRight(text: string, withSnippets: readonly string[] = [], withoutSnippets: readonly string[] = []): boolean {
  const t = squash(text);
  return withSnippets.every((s) => t.includes(squash(s))) && !withoutSnippets.some((s) => t.includes(squash(s)));
}
