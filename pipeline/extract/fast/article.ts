/**
 * Readability's article finding (Readability.js 0.6, `_grabArticle` and `_prepArticle`)
 * on the typed-array tree: the same removals, paragraph scores, candidate climbing,
 * sibling merging and conditional cleaning, the same retries with weaker rules. Where
 * Readability rewrites the DOM (div to p, phrasing runs wrapped in p, a div holding one p
 * replaced by it) this code reads the tree as if it had been rewritten; where it counts
 * by walking subtrees again and again, this code keeps per-element totals, computed once
 * per attempt bottom-up and updated along the ancestor chain when an element is cut.
 */
import { K, T, Tag } from './tags.js';
import { ExtractionTimeout, F, PageTree } from './tree.js';

export interface Rules {
  stripUnlikelys: boolean;
  weightClasses: boolean;
  cleanConditionally: boolean;
}

const CHAR_THRESHOLD = 500;
const TOP_CANDIDATES = 5;
const ad = /^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$/iu;
const loading = /^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$/iu;

const EARLY_REMOVED = new Set(['script', 'style', 'noscript', 'head', 'template'].map((n) => T(n as 'script')));
const EMPTY_REMOVED = new Set(['div', 'section', 'header', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((n) => T(n as 'div')));

const buffers: Float64Array[] = [];
/** A reused buffer of at least n numbers (its contents are whatever the last page left). */
function buffer(k: number, n: number): Float64Array {
  let b = buffers[k];
  if (!b || b.length < n) b = buffers[k] = new Float64Array(Math.max(n, 4096, (b?.length ?? 0) * 2));
  return b;
}

/** Per-element totals over a subtree, without what is removed. */
class Totals {
  text: Float64Array;
  link: Float64Array; // text inside links, "#…" links at 0.3 (Readability's link density)
  anchor: Float64Array; // text inside links, all at 1 (the pruning rule's link density)
  commas: Float64Array;
  ascii: Float64Array;
  p: Float64Array;
  img: Float64Array;
  li: Float64Array;
  input: Float64Array;
  embed: Float64Array;
  video: Float64Array;
  table: Float64Array;
  blocks: Float64Array; // DIV_TO_P descendants
  list: Float64Array; // text inside ul/ol
  heading: Float64Array; // text inside h1–h6
  textish: Float64Array; // text inside span, li, td, div, p, …
  children: Float64Array; // element children
  brhr: Float64Array; // br and hr children
  private all: Float64Array[];

  /** `slot` picks a set of reused buffers (pages are extracted one at a time per thread). */
  constructor(n: number, slot: number) {
    this.all = [];
    const a = () => {
      const x = buffer(slot * 32 + this.all.length, n);
      this.all.push(x);
      return x;
    };
    this.text = a();
    this.link = a();
    this.anchor = a();
    this.commas = a();
    this.ascii = a();
    this.p = a();
    this.img = a();
    this.li = a();
    this.input = a();
    this.embed = a();
    this.video = a();
    this.table = a();
    this.blocks = a();
    this.list = a();
    this.heading = a();
    this.textish = a();
    this.children = a();
    this.brhr = a();
  }

  /** Bottom-up over the tree: children have higher numbers than their parent. */
  compute(tree: PageTree, removed: Uint8Array): void {
    const n = tree.n;
    for (const x of this.all) x.fill(0, 0, n);
    for (let e = n - 1; e >= 0; e--) {
      if (removed[e]) continue;
      const t = tree.tag[e];
      const kind = tree.kind(e);
      this.text[e] += tree.ownText[e];
      this.commas[e] += tree.ownCommas[e];
      this.ascii[e] += tree.ownAsciiCommas[e];
      if (t === Tag.a) {
        this.link[e] = this.text[e] * (tree.flags[e] & F.HASH_HREF ? 0.3 : 1);
        this.anchor[e] = this.text[e];
      }
      // Readability has turned divs without blocks into p, and wrapped a div's loose text in p.
      if (t === Tag.p || (t === Tag.div && (this.blocks[e] === 0 || tree.ownText[e] > 0))) this.p[e]++;
      else if (t === Tag.img) this.img[e]++;
      else if (t === Tag.li) this.li[e]++;
      else if (t === Tag.input) this.input[e]++;
      else if (t === Tag.table) this.table[e]++;
      if (kind & K.EMBED) {
        this.embed[e]++;
        if (tree.flags[e] & F.VIDEO) this.video[e]++;
      }
      const parent = tree.parent[e];
      if (parent < 0) continue;
      this.text[parent] += this.text[e];
      this.link[parent] += this.link[e];
      this.anchor[parent] += this.anchor[e];
      this.commas[parent] += this.commas[e];
      this.ascii[parent] += this.ascii[e];
      this.p[parent] += this.p[e];
      this.img[parent] += this.img[e];
      this.li[parent] += this.li[e];
      this.input[parent] += this.input[e];
      this.embed[parent] += this.embed[e];
      this.video[parent] += this.video[e];
      this.table[parent] += this.table[e];
      this.blocks[parent] += this.blocks[e] + (kind & K.DIV_TO_P ? 1 : 0);
      this.list[parent] += kind & K.LIST ? this.text[e] : this.list[e];
      this.heading[parent] += kind & K.HEADING ? this.text[e] : this.heading[e];
      this.textish[parent] += kind & K.TEXTISH ? this.text[e] : this.textish[e];
      this.children[parent]++;
      if (t === Tag.br || t === Tag.hr) this.brhr[parent]++;
    }
  }

  /** Element `e` is cut from the article: take its totals out of its ancestors up to `root`. */
  subtract(tree: PageTree, e: number, root: number): void {
    const text = this.text[e];
    let link = this.link[e];
    let anchor = this.anchor[e];
    const kind = tree.kind(e);
    let list = kind & K.LIST ? text : this.list[e];
    let heading = kind & K.HEADING ? text : this.heading[e];
    let textish = kind & K.TEXTISH ? text : this.textish[e];
    const counts = [this.commas, this.ascii, this.p, this.img, this.li, this.input, this.embed, this.video, this.table];
    const deltas = counts.map((x) => x[e]);
    const blocks = this.blocks[e] + (kind & K.DIV_TO_P ? 1 : 0);
    const t = tree.tag[e];
    let a = tree.parent[e];
    this.children[a]--;
    if (t === Tag.br || t === Tag.hr) this.brhr[a]--;
    for (; a >= 0; a = tree.parent[a]) {
      this.text[a] -= text;
      if (tree.tag[a] === Tag.a) {
        link = text * (tree.flags[a] & F.HASH_HREF ? 0.3 : 1);
        anchor = text;
      }
      this.link[a] -= link;
      this.anchor[a] -= anchor;
      this.list[a] -= list;
      this.heading[a] -= heading;
      this.textish[a] -= textish;
      this.blocks[a] -= blocks;
      for (let i = 0; i < counts.length; i++) counts[i][a] -= deltas[i];
      const k = tree.kind(a);
      if (k & K.LIST) list = text;
      if (k & K.HEADING) heading = text;
      if (k & K.TEXTISH) textish = text;
      if (a === root) break;
    }
  }

  linkDensity(e: number): number {
    const t = this.text[e];
    return t > 0 ? this.link[e] / t : 0;
  }
}

export interface ArticleResult {
  /** Top-level elements of the article, in document order. */
  roots: number[];
  /** Elements cut from the article (removed while grabbing, or cleaned). */
  cut: Uint8Array;
  /** Text length of the article as Readability measures success. */
  length: number;
  totals: Totals;
}

/** Readability's `_textSimilarity`. */
function textSimilarity(a: string, b: string): number {
  const ta = a.toLowerCase().split(/\W+/).filter(Boolean);
  const tb = b.toLowerCase().split(/\W+/).filter(Boolean);
  if (!ta.length || !tb.length) return 0;
  const unique = tb.filter((t) => !ta.includes(t));
  return 1 - unique.join(' ').length / tb.join(' ').length;
}

export class ArticleFinder {
  private readonly n: number;
  private readonly removed: Uint8Array;
  private readonly raw: Totals;
  readonly totals: Totals;
  private readonly score: Float64Array;
  private readonly inited: Uint8Array;
  private readonly collapsed: Uint8Array;
  private rules!: Rules;

  constructor(
    private readonly tree: PageTree,
    private readonly articleTitle: string,
    private readonly deadline = Infinity,
  ) {
    this.n = tree.n;
    this.removed = new Uint8Array(this.n);
    this.raw = new Totals(this.n, 0);
    this.raw.compute(tree, this.removed);
    this.totals = new Totals(this.n, 1);
    this.score = buffer(64, this.n);
    this.inited = new Uint8Array(this.n);
    this.collapsed = new Uint8Array(this.n);
  }

  /** Readability's loop: all rules first, then without each in turn; the longest attempt if none reaches 500 characters. */
  find(): ArticleResult | null {
    const ladder: Rules[] = [
      { stripUnlikelys: true, weightClasses: true, cleanConditionally: true },
      { stripUnlikelys: false, weightClasses: true, cleanConditionally: true },
      { stripUnlikelys: false, weightClasses: false, cleanConditionally: true },
      { stripUnlikelys: false, weightClasses: false, cleanConditionally: false },
    ];
    let best: { rules: Rules; length: number } | null = null;
    for (const rules of ladder) {
      const result = this.attempt(rules);
      if (result.length >= CHAR_THRESHOLD) return result;
      if (!best || result.length > best.length) best = { rules, length: result.length };
    }
    if (!best || best.length === 0) return null;
    return this.attempt(best.rules);
  }

  private checkTime(): void {
    if (performance.now() > this.deadline) throw new ExtractionTimeout('time budget spent while scoring');
  }

  private classWeight(e: number): number {
    if (!this.rules.weightClasses) return 0;
    const f = this.tree.flags[e];
    return (f & F.CLASS_NEG ? -25 : 0) + (f & F.CLASS_POS ? 25 : 0) + (f & F.ID_NEG ? -25 : 0) + (f & F.ID_POS ? 25 : 0);
  }

  /** Text of a subtree, trimmed, whitespace collapsed (only for short elements: headings, bylines). */
  private innerText(e: number): string {
    const tree = this.tree;
    let s = '';
    for (let i = tree.evOpen[e]; i < tree.evClose[e]; i++) {
      const v = tree.ev[i];
      if (v < 0) s += tree.text(~v);
    }
    return s.replace(/\s+/g, ' ').trim();
  }

  /** The parent, reading a div that Readability replaces by its only p as not there. */
  private up(e: number): number {
    let p = this.tree.parent[e];
    while (p > 0 && this.collapsed[p]) p = this.tree.parent[p];
    return p;
  }

  private isBody(e: number): boolean {
    return e <= 0 || e === this.tree.body || this.tree.parent[e] <= 0;
  }

  /** Element children that are still there, with a collapsed div standing for its p. */
  private children(e: number, each: (c: number) => void): void {
    const { tree, removed } = this;
    const end = tree.end[e];
    for (let c = e + 1; c < end; c = tree.end[c]) {
      if (removed[c]) continue;
      if (this.collapsed[c]) {
        let p = c + 1;
        while (p < tree.end[c] && removed[p]) p = tree.end[p];
        each(p);
      } else each(c);
    }
  }

  private markRemovals(): void {
    const { tree, removed, raw } = this;
    const { stripUnlikelys } = this.rules;
    removed.fill(0);
    let byline = false;
    let titleHeader = false;
    for (let e = 1; e < this.n; e++) {
      const p = tree.parent[e];
      if (removed[p]) {
        removed[e] = 1;
        continue;
      }
      const t = tree.tag[e];
      const f = tree.flags[e];
      if (EARLY_REMOVED.has(t) || f & (F.HIDDEN | F.DIALOG)) {
        removed[e] = 1;
        continue;
      }
      if (!byline && f & (F.BYLINE | F.BYLINE_ATTR) && raw.text[e] > 0 && raw.text[e] < 100) {
        byline = true;
        removed[e] = 1;
        continue;
      }
      if (!titleHeader && (t === Tag.h1 || t === Tag.h2) && textSimilarity(this.articleTitle, this.innerText(e)) > 0.75) {
        titleHeader = true;
        removed[e] = 1;
        continue;
      }
      if (stripUnlikelys) {
        if (f & F.UNLIKELY && !(f & F.MAYBE) && !(f & (F.IN_TABLE | F.IN_CODE)) && t !== Tag.body && t !== Tag.a) {
          removed[e] = 1;
          continue;
        }
        if (f & F.ROLE_UNLIKELY) {
          removed[e] = 1;
          continue;
        }
      }
      if (EMPTY_REMOVED.has(t) && raw.text[e] === 0 && raw.children[e] === raw.brhr[e]) removed[e] = 1;
    }
  }

  private initialize(e: number, candidates: number[]): void {
    if (this.inited[e]) return;
    this.inited[e] = 1;
    candidates.push(e);
    const t = this.tree.tag[e];
    let s = 0;
    if (t === Tag.div) s = 5;
    else if (t === Tag.pre || t === Tag.td || t === Tag.blockquote) s = 3;
    else if (t === Tag.address || t === Tag.ol || t === Tag.ul || t === Tag.dl || t === Tag.dd || t === Tag.dt || t === Tag.li || t === Tag.form) s = -3;
    else if (this.tree.kind(e) & K.HEADING || t === Tag.th) s = -5;
    this.score[e] = s + this.classWeight(e);
  }

  /** Scores a paragraph of `length` characters and `commas` commas into its ancestors from `first`. */
  private scoreParagraph(first: number, length: number, commas: number, candidates: number[]): void {
    if (length < 25 || first <= 0) return;
    const content = 2 + commas + Math.min(Math.floor(length / 100), 3);
    let a = first;
    for (let level = 0; level < 5 && a >= 0; level++) {
      if (a > 0 && this.tree.parent[a] > 0) {
        this.initialize(a, candidates);
        this.score[a] += content / (level === 0 ? 1 : level === 1 ? 2 : level * 3);
      }
      a = this.up(a);
    }
  }

  /** Is `e` a paragraph to Readability: a p-like tag, or a div with no block inside. */
  private isParagraphDiv(e: number): boolean {
    return this.tree.tag[e] === Tag.div && this.totals.blocks[e] === 0;
  }

  private phrasing(c: number): boolean {
    const tree = this.tree;
    const t = tree.tag[c];
    if (tree.kind(c) & K.PHRASING) return true;
    return (t === Tag.a || t === Tag.del || t === Tag.ins) && this.totals.blocks[c] === 0;
  }

  /** A div with block children: its runs of phrasing content become paragraphs of their own. */
  private scorePhrasingRuns(e: number, candidates: number[]): void {
    const { tree, totals, removed } = this;
    let length = 0;
    let commas = 0;
    const flush = () => {
      this.scoreParagraph(e, length, commas, candidates);
      length = commas = 0;
    };
    for (let i = tree.evOpen[e] + 1; i < tree.evClose[e]; i++) {
      const v = tree.ev[i];
      if (v < 0) {
        length += tree.textLen[~v];
        commas += tree.textCommas[~v];
        continue;
      }
      const c = v >> 1;
      i = tree.evClose[c];
      if (removed[c]) continue;
      if (this.phrasing(c)) {
        length += totals.text[c];
        commas += totals.commas[c];
      } else flush();
    }
    flush();
  }

  private attempt(rules: Rules): ArticleResult {
    this.rules = rules;
    this.checkTime();
    const { tree, totals, removed, score, inited, collapsed } = this;
    this.markRemovals();
    totals.compute(tree, removed);
    inited.fill(0);
    score.fill(0, 0, this.n);
    collapsed.fill(0);

    // A div holding a single p (and no text of its own) is that p.
    for (let e = 1; e < this.n; e++) {
      if (removed[e] || tree.tag[e] !== Tag.div || totals.children[e] !== 1 || tree.ownText[e] !== 0) continue;
      let c = e + 1;
      while (c < tree.end[e] && removed[c]) c = tree.end[c];
      if (c < tree.end[e] && tree.tag[c] === Tag.p && totals.linkDensity(e) < 0.25) collapsed[e] = 1;
    }

    const candidates: number[] = [];
    for (let e = 1; e < this.n; e++) {
      if (removed[e] || collapsed[e]) continue;
      const kind = tree.kind(e);
      if (kind & K.SCORE || this.isParagraphDiv(e)) {
        if (tree.parent[e] <= 0) continue;
        this.scoreParagraph(this.up(e), totals.text[e], totals.commas[e], candidates);
      } else if (tree.tag[e] === Tag.div) {
        this.scorePhrasingRuns(e, candidates);
      }
    }

    // Link density scales the scores; the five best are the top candidates.
    const top: number[] = [];
    for (const c of candidates) {
      score[c] *= 1 - totals.linkDensity(c);
      let t = 0;
      while (t < top.length && score[c] <= score[top[t]]) t++;
      if (t < TOP_CANDIDATES) {
        top.splice(t, 0, c);
        if (top.length > TOP_CANDIDATES) top.pop();
      }
    }

    let best = top[0] ?? -1;
    let roots: number[];
    if (best < 0 || this.isBody(best) || tree.tag[best] === Tag.body) {
      roots = [tree.body];
    } else {
      const alternatives: Set<number>[] = [];
      for (let i = 1; i < top.length; i++) {
        if (score[top[i]] / score[best] >= 0.75) {
          const ancestors = new Set<number>();
          for (let a = this.up(top[i]); a > 0; a = this.up(a)) ancestors.add(a);
          alternatives.push(ancestors);
        }
      }
      if (alternatives.length >= 3) {
        for (let p = this.up(best); p > 0 && !this.isBody(p); p = this.up(p)) {
          let lists = 0;
          for (const a of alternatives) if (a.has(p)) lists++;
          if (lists >= 3) {
            best = p;
            break;
          }
        }
      }
      this.initialize(best, candidates);
      let p = this.up(best);
      let last = score[best];
      const threshold = last / 3;
      while (p > 0 && !this.isBody(p)) {
        if (!inited[p]) {
          p = this.up(p);
          continue;
        }
        if (score[p] < threshold) break;
        if (score[p] > last) {
          best = p;
          break;
        }
        last = score[p];
        p = this.up(p);
      }
      p = this.up(best);
      while (p > 0 && !this.isBody(p) && this.childCount(p) === 1) {
        best = p;
        p = this.up(best);
      }
      this.initialize(best, candidates);
      roots = this.siblings(best, p);
    }
    const cut = new Uint8Array(this.n);
    for (let e = 0; e < this.n; e++) if (removed[e]) cut[e] = 1;
    this.prepare(roots, cut);
    let length = 0;
    for (const r of roots) length += totals.text[r];
    return { roots, cut, length, totals };
  }

  private childCount(e: number): number {
    let n = 0;
    this.children(e, () => n++);
    return n;
  }

  /** The top candidate and those of its siblings that look like content too. */
  private siblings(best: number, parent: number): number[] {
    const { tree, totals, score, inited } = this;
    const threshold = Math.max(10, score[best] * 0.2);
    const bestClass = tree.className(best);
    const roots: number[] = [];
    this.children(parent, (s) => {
      if (s === best) return void roots.push(s);
      let bonus = 0;
      if (bestClass !== '' && tree.className(s) === bestClass) bonus += score[best] * 0.2;
      if (inited[s] && score[s] + bonus >= threshold) return void roots.push(s);
      if (tree.tag[s] === Tag.p || this.isParagraphDiv(s)) {
        const density = totals.linkDensity(s);
        const length = totals.text[s];
        if (length > 80 && density < 0.25) roots.push(s);
        else if (length < 80 && length > 0 && density === 0 && /\.( |$)/.test(this.innerText(s))) roots.push(s);
      }
    });
    return roots;
  }

  // ---- _prepArticle ----------------------------------------------------------------------

  private cutElement(e: number, root: number, cut: Uint8Array): void {
    this.totals.subtract(this.tree, e, root);
    for (let i = e; i < this.tree.end[e]; i++) cut[i] = 1;
  }

  /** Elements of `tag` under the roots that are still there, last first (Readability removes backwards). */
  private each(roots: number[], cut: Uint8Array, match: (e: number) => boolean, visit: (e: number, root: number) => void, includeRoot = true): void {
    const tree = this.tree;
    for (let r = roots.length - 1; r >= 0; r--) {
      const root = roots[r];
      for (let e = tree.end[root] - 1; e >= root + (includeRoot ? 0 : 1); e--) {
        if (!cut[e] && match(e)) visit(e, root);
      }
    }
  }

  private prepare(roots: number[], cut: Uint8Array): void {
    const tree = this.tree;
    const dataTables = this.markDataTables(roots, cut);
    const hasTag = (t: number) => (e: number) => tree.tag[e] === t;
    const clean = (t: number) =>
      this.each(roots, cut, hasTag(t), (e, root) => {
        if (tree.kind(e) & K.EMBED && tree.flags[e] & F.VIDEO) return;
        this.cutElement(e, root, cut);
      });
    // Divs that Readability has turned into p (no blocks inside, or holding just one p) are not divs here.
    const asDiv = (e: number) => tree.tag[e] === Tag.div && this.totals.blocks[e] > 0 && !this.collapsed[e];
    const conditionally = (t: number) =>
      this.each(roots, cut, t === Tag.div ? asDiv : hasTag(t), (e, root) => this.cleanConditionally(e, root, t, dataTables, cut));

    conditionally(Tag.form);
    conditionally(Tag.fieldset);
    for (const t of ['object', 'embed', 'footer', 'link', 'aside'] as const) clean(T(t));
    // Little elements with "share" in their class or id, below the top-level elements.
    this.each(roots, cut, (e) => (tree.flags[e] & F.SHARE) !== 0, (e, root) => {
      if (this.totals.text[e] < CHAR_THRESHOLD) this.cutElement(e, root, cut);
    }, false);
    for (const t of ['iframe', 'input', 'textarea', 'select', 'button'] as const) clean(T(t));
    this.each(roots, cut, (e) => tree.tag[e] === Tag.h1 || tree.tag[e] === Tag.h2, (e, root) => {
      if (this.classWeight(e) < 0) this.cutElement(e, root, cut);
    });
    conditionally(Tag.table);
    conditionally(Tag.ul);
    conditionally(Tag.div);
  }

  /** Readability's `_markDataTables`: which tables hold data (kept) rather than layout. */
  private markDataTables(roots: number[], cut: Uint8Array): Set<number> {
    const tree = this.tree;
    const data = new Set<number>();
    this.each(roots, cut, (e) => tree.tag[e] === Tag.table, (table) => {
      const f = tree.flags[table];
      if (f & F.NOT_DATA_TABLE) return;
      if (f & F.SUMMARY) return void data.add(table);
      let rows = 0;
      let columns = 0;
      let cells = 0;
      let nested = false;
      for (let e = table + 1; e < tree.end[table]; e++) {
        const t = tree.tag[e];
        if (t === Tag.caption && (tree.end[e] > e + 1 || tree.ownText[e] > 0)) return void data.add(table);
        if (t === Tag.col || t === Tag.colgroup || t === Tag.tfoot || t === Tag.thead || t === Tag.th) return void data.add(table);
        if (t === Tag.table) nested = true;
        if (t === Tag.tr) {
          rows++;
          cells = 0;
        }
        if (t === Tag.td) columns = Math.max(columns, ++cells);
      }
      if (nested || columns === 1 || rows === 1) return;
      if (rows >= 10 || columns > 4 || rows * columns > 10) data.add(table);
    });
    return data;
  }

  private hasAncestor(e: number, root: number, test: (a: number) => boolean): boolean {
    for (let a = e === root ? -1 : this.tree.parent[e]; a >= 0; a = this.tree.parent[a]) {
      if (test(a)) return true;
      if (a === root) break;
    }
    return false;
  }

  private cleanConditionally(e: number, root: number, tag: number, dataTables: Set<number>, cut: Uint8Array): void {
    if (!this.rules.cleanConditionally) return;
    const { tree, totals } = this;
    const text = totals.text[e];
    let isList = tag === Tag.ul || tag === Tag.ol;
    if (!isList) isList = text > 0 && totals.list[e] / text > 0.9;
    if (tag === Tag.table && dataTables.has(e)) return;
    if (this.hasAncestor(e, root, (a) => dataTables.has(a) || tree.tag[a] === Tag.code)) return;
    if (totals.table[e] > 0) for (const d of dataTables) if (d > e && d < tree.end[e] && !cut[d]) return;
    const weight = this.classWeight(e);
    if (weight < 0) return this.cutElement(e, root, cut);
    if (totals.ascii[e] >= 10) return;
    if (totals.video[e] > 0) return;
    const p = totals.p[e];
    const img = totals.img[e];
    const li = totals.li[e] - 100;
    const input = totals.input[e];
    const headingDensity = text > 0 ? totals.heading[e] / text : 0;
    const embeds = totals.embed[e];
    if (text < 30) {
      const inner = this.innerText(e);
      if (ad.test(inner) || loading.test(inner)) return this.cutElement(e, root, cut);
    }
    const linkDensity = totals.linkDensity(e);
    // A div's loose text sits in the p's Readability wrapped it in: textish too.
    const textish = totals.textish[e] + (tag === Tag.div ? tree.ownText[e] + totals.link[e] : 0);
    const textDensity = text > 0 ? textish / text : 0;
    const inFigure = this.hasAncestor(e, root, (a) => tree.tag[a] === Tag.figure);
    const remove =
      (!inFigure && img > 1 && p / img < 0.5) ||
      (!isList && li > p) ||
      input > Math.floor(p / 3) ||
      (!isList && !inFigure && headingDensity < 0.9 && text < 25 && (img === 0 || img > 2) && linkDensity > 0) ||
      (!isList && weight < 25 && linkDensity > 0.2) ||
      (weight >= 25 && linkDensity > 0.5) ||
      (embeds === 1 && text < 75) ||
      embeds > 1 ||
      (img === 0 && textDensity === 0);
    if (!remove) return;
    if (isList) {
      // Lists of images stay.
      let simple = true;
      for (let c = e + 1; c < tree.end[e]; c = tree.end[c]) {
        if (cut[c]) continue;
        let grandchildren = 0;
        for (let g = c + 1; g < tree.end[c]; g = tree.end[g]) if (!cut[g]) grandchildren++;
        if (grandchildren > 1) simple = false;
      }
      if (simple && img === totals.li[e]) return;
    }
    this.cutElement(e, root, cut);
  }

  /**
   * What Readability keeps but readers skip (the same rules as readable.ts's prune): page
   * furniture by tag, then by class/id words, then link-dense blocks; an element goes only
   * when it holds under a quarter of the article's text.
   */
  prune(article: ArticleResult): void {
    const { tree, totals } = this;
    const { roots, cut } = article;
    let total = 0;
    for (const r of roots) total += totals.text[r];
    total = Math.max(1, total);
    const small = (e: number) => totals.text[e] < total * 0.25;
    const pass = (test: (e: number) => boolean) => {
      for (const root of roots) {
        for (let e = root; e < tree.end[root]; e++) {
          if (cut[e]) {
            e = tree.end[e] - 1;
            continue;
          }
          if (test(e)) {
            this.cutElement(e, root, cut);
            e = tree.end[e] - 1;
          }
        }
      }
    };
    pass((e) => (tree.kind(e) & K.PRUNE) !== 0 && small(e));
    pass((e) => (tree.flags[e] & F.FURNITURE_NAME) !== 0 && small(e));
    pass((e) => {
      const t = tree.tag[e];
      if (t !== Tag.ul && t !== Tag.ol && t !== Tag.div && t !== Tag.section && t !== Tag.table && t !== Tag.p) return false;
      const length = totals.text[e];
      return length > 0 && length <= 2000 && small(e) && totals.anchor[e] / length > 0.6;
    });
  }
}
