/**
 * Text normalisation shared by the stages that compare documents (dedup) and by the
 * sample-web builder that plants duplicates at a known similarity. Follows datatrove's
 * simplification: lower case, accents stripped, digits -> 0, punctuation removed,
 * whitespace collapsed.
 */
export function normalizeForDedup(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}+/gu, '')
    .replace(/\p{Nd}/gu, '0')
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The set of n-word shingles of the normalised text (a text shorter than n words is one shingle). */
export function wordShingles(text: string, n = 5): Set<string> {
  const words = normalizeForDedup(text).split(' ').filter(Boolean);
  const shingles = new Set<string>();
  if (words.length === 0) return shingles;
  if (words.length < n) {
    shingles.add(words.join(' '));
    return shingles;
  }
  for (let i = 0; i + n <= words.length; i++) shingles.add(words.slice(i, i + n).join(' '));
  return shingles;
}

export function jaccard<T>(a: Set<T>, b: Set<T>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}
