/**
 * What a stage changed in a document's text, for the document page: a line diff (what C4's
 * line cleaning or boilerplate removal dropped), and within a changed line a word diff (what
 * PII replacement put in place of an address). Longest common subsequence after trimming the
 * common head and tail; past MAX_CELLS the middle is shown as removed then added.
 */
import { Safe, esc } from './html.js';

export type Edit = { op: 'same' | 'del' | 'ins'; text: string };

const MAX_CELLS = 4_000_000;

export function diffSeq(a: readonly string[], b: readonly string[]): Edit[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const middle: Edit[] = [];
  if (x.length * y.length > MAX_CELLS) {
    middle.push(...x.map((text) => ({ op: 'del' as const, text })), ...y.map((text) => ({ op: 'ins' as const, text })));
  } else {
    // lcs[i][j]: longest common subsequence of x[i..] and y[j..], one flat typed array.
    const w = y.length + 1;
    const lcs = new Uint32Array((x.length + 1) * w);
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) {
        lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i] === y[j]) {
        middle.push({ op: 'same', text: x[i++] });
        j++;
      } else if (j < y.length && (i === x.length || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j])) middle.push({ op: 'ins', text: y[j++] });
      else middle.push({ op: 'del', text: x[i++] });
    }
  }
  return [...a.slice(0, head).map((text) => ({ op: 'same' as const, text })), ...middle, ...b.slice(b.length - tail).map((text) => ({ op: 'same' as const, text }))];
}

const words = (line: string) => line.split(/(\s+)/).filter((w) => w !== '');

const mark = (e: Edit) => (e.op === 'same' ? esc(e.text) : e.op === 'del' ? `<del>${esc(e.text)}</del>` : `<ins>${esc(e.text)}</ins>`);

/** `after` as HTML with what `before` had and it lacks struck through, and what it added marked. */
export function diffHtml(before: string, after: string): { html: Safe; removed: number; added: number } {
  const edits = diffSeq(before.split('\n'), after.split('\n'));
  const out: string[] = [];
  let removed = 0;
  let added = 0;
  for (let k = 0; k < edits.length; k++) {
    const e = edits[k];
    if (e.op === 'del') removed++;
    if (e.op === 'ins') added++;
    // One line replaced by one line: show the words that changed (a placeholder for an e-mail address).
    const next = edits[k + 1];
    const single = e.op === 'del' && next?.op === 'ins' && edits[k - 1]?.op !== 'del' && edits[k + 2]?.op !== 'ins';
    if (single) {
      added++;
      out.push(diffSeq(words(e.text), words(next.text)).map(mark).join(''));
      k++;
      continue;
    }
    out.push(mark(e));
  }
  return { html: new Safe(out.join('\n')), removed, added };
}
