/**
 * Two extractions of one page side by side (`extract-page --diff`): lines are aligned by a
 * longest common subsequence, lines only one engine kept are marked in the gutter.
 */

/** Pairs of line indexes: [i, -1] only on the left, [-1, j] only on the right, [i, j] on both. */
export function alignLines(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the LCS of a[i..] and b[j..], in one flat array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) pairs.push([i++, j++]);
    else if (j >= m || (i < n && lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) pairs.push([i++, -1]);
    else pairs.push([-1, j++]);
  }
  return pairs;
}

function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  for (let i = 0; i < line.length; i += width) out.push(line.slice(i, i + width));
  return out;
}

/** Both texts in two columns of `width` characters; `<` marks lines only on the left, `>` only on the right. */
export function sideBySide(left: string, right: string, width: number, labels: [string, string]): string {
  const a = left ? left.split('\n') : [];
  const b = right ? right.split('\n') : [];
  const pad = (s: string) => s + ' '.repeat(Math.max(0, width - s.length));
  const rows = [`${pad(labels[0])}   ${labels[1]}`, `${'─'.repeat(width)}   ${'─'.repeat(width)}`];
  let same = 0;
  for (const [i, j] of alignLines(a, b)) {
    const l = i >= 0 ? wrap(a[i], width) : [];
    const r = j >= 0 ? wrap(b[j], width) : [];
    const mark = i >= 0 && j >= 0 ? '│' : i >= 0 ? '<' : '>';
    if (mark === '│') same++;
    for (let k = 0; k < Math.max(l.length, r.length); k++) rows.push(`${pad(l[k] ?? '')} ${mark} ${r[k] ?? ''}`.trimEnd());
  }
  rows.push(`${a.length} lines / ${b.length} lines, ${same} in both`);
  return rows.join('\n');
}
