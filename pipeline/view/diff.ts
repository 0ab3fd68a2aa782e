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
      } else if (i < x.length && (j === y.length || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) middle.push({ op: 'del', text: x[i++] });
      else middle.push({ op: 'ins', text: y[j++] });
    }
  }
  return [...a.slice(0, head).map((text) => ({ op: 'same' as const, text })), ...middle, ...b.slice(b.length - tail).map((text) => ({ op: 'same' as const, text }))];
}

const words = (line: string) => line.split(/(\s+)/).filter((w) => w !== '');

const mark = (e: Edit) => (e.op === 'same' ? esc(e.text) : e.op === 'del' ? `<del>${esc(e.text)}</del>` : `<ins>${esc(e.text)}</ins>`);

/** Share of words two lines have in common (0..1). */
function likeness(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  if (x.length + y.length === 0) return 1;
  const same = diffSeq(x, y).filter((e) => e.op === 'same').length;
  return (2 * same) / (x.length + y.length);
}

/** Lines a stage rewrote (a placeholder put in, a phrase cut) rather than removed: at least half their words kept. */
const REWRITTEN = 0.5;

/**
 * `after` as HTML with what `before` had and it lacks struck through, and what it added marked.
 * In a run of changed lines, a removed line and an added line that share most words are one
 * line rewritten, shown with a word diff (an e-mail address and the placeholder that replaced it).
 */
export function diffHtml(before: string, after: string): { html: Safe; removed: number; added: number } {
  const edits = diffSeq(before.split('\n'), after.split('\n'));
  // A removed line carries its own line break inside <del>, so that the page's text without the
  // struck-through parts is exactly the new text.
  let html = '';
  let lines = 0;
  const out = {
    push(line: string) {
      html += lines++ > 0 ? `\n${line}` : line;
    },
    removed(text: string) {
      html += lines > 0 ? `<del>\n${esc(text)}</del>` : `<del>${esc(text)}\n</del>`;
    },
  };
  let removed = 0;
  let added = 0;
  for (let k = 0; k < edits.length; ) {
    if (edits[k].op === 'same') {
      out.push(esc(edits[k++].text));
      continue;
    }
    const dels: string[] = [];
    const inss: string[] = [];
    while (k < edits.length && edits[k].op !== 'same') (edits[k].op === 'del' ? dels : inss).push(edits[k++].text);
    removed += dels.length;
    added += inss.length;
    // Walk the added lines in order, each paired with a later removed line it resembles, so the
    // added text reads in its own order and each removed line shows where it was.
    let nextDel = 0;
    for (const line of inss) {
      let d = -1;
      for (let i = nextDel; i < dels.length && d < 0; i++) if (likeness(dels[i], line) >= REWRITTEN) d = i;
      if (d < 0) {
        out.push(mark({ op: 'ins', text: line }));
        continue;
      }
      while (nextDel < d) out.removed(dels[nextDel++]);
      out.push(diffSeq(words(dels[d]), words(line)).map(mark).join(''));
      nextDel = d + 1;
    }
    while (nextDel < dels.length) out.removed(dels[nextDel++]);
  }
  return { html: new Safe(html), removed, added };
}
