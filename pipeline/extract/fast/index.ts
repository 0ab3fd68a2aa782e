/**
 * The fast extraction engine (`--extractor fast`): one pass of the page into a typed-array
 * tree (./tree.ts), Readability's article finding on it (./article.ts), the same pruning
 * and block-structured text as the Readability engine, and the same fallback (the page's
 * text without furniture) when no article is found. Linear in the page's size, so the time
 * budget is a deadline checked inside the pass rather than a thread to stop.
 */
import { TextBuilder } from '../text-builder.js';
import type { ExtractOptions, Extracted } from '../readable.js';
import { ArticleFinder } from './article.js';
import { K, T, Tag } from './tags.js';
import { PageTree } from './tree.js';

/** Block-structured text of the subtrees `roots`, leaving out cut elements and those that never hold text. */
export function renderText(tree: PageTree, roots: readonly number[], skip: (e: number) => boolean): string {
  const out = new TextBuilder();
  const { ev } = tree;
  const br = Tag.br;
  const pre = Tag.pre;
  const td = Tag.td;
  const th = Tag.th;
  for (const root of roots) {
    for (let i = tree.evOpen[root], last = tree.evClose[root]; i <= last; i++) {
      const v = ev[i];
      if (v < 0) {
        out.text(tree.text(~v));
        continue;
      }
      const e = v >> 1;
      const t = tree.tag[e];
      const kind = tree.kind(e);
      if ((v & 1) === 0) {
        if (e !== 0 && (kind & K.NEVER_TEXT || skip(e))) {
          i = tree.evClose[e];
          continue;
        }
        if (t === br) out.newline();
        else if (t === pre) out.enterPre();
        else if (kind & K.BLOCK && t !== td && t !== th) out.newline();
      } else {
        if (t === pre) out.exitPre();
        else if (t === td || t === th) out.cell();
        else if (kind & K.BLOCK) out.newline();
      }
    }
  }
  return out.finish();
}

const wordCount = (s: string) => s.split(/\s+/).length;

/** Readability's `_getArticleTitle`: the page title without the site's name where it can tell. */
export function articleTitle(tree: PageTree): string {
  const original = (tree.title ?? '').trim();
  let title = original;
  let hierarchical = false;
  if (/ [|\-\\/>»] /.test(title)) {
    hierarchical = / [\\/>»] /.test(title);
    const separators = Array.from(original.matchAll(/ [|\-\\/>»] /gi));
    title = original.substring(0, separators[separators.length - 1].index);
    if (wordCount(title) < 3) title = original.replace(/^[^|\-\\/>»]*[|\-\\/>»]/gi, '');
  } else if (title.includes(': ')) {
    let headed = false;
    for (let e = 1; e < tree.n && !headed; e++) {
      const t = tree.tag[e];
      if ((t === Tag.h1 || t === Tag.h2) && renderText(tree, [e], () => false).trim() === title) headed = true;
    }
    if (!headed) {
      title = original.substring(original.lastIndexOf(':') + 1);
      if (wordCount(title) < 3) title = original.substring(original.indexOf(':') + 1);
      else if (wordCount(original.substring(0, original.indexOf(':'))) > 5) title = original;
    }
  } else if (title.length > 150 || title.length < 15) {
    let h1 = -1;
    let count = 0;
    for (let e = 1; e < tree.n; e++) if (tree.tag[e] === Tag.h1) (h1 = e), count++;
    if (count === 1) title = renderText(tree, [h1], () => false);
  }
  title = title.trim().replace(/\s{2,}/g, ' ');
  const words = wordCount(title);
  if (words <= 4 && (!hierarchical || words !== wordCount(original.replace(/[|\-\\/>»]+/g, '')) - 1)) title = original;
  return title;
}

/** The title Readability reports: from the page's metadata first, else from <title>. */
function metadataTitle(tree: PageTree): string | null {
  for (const key of ['dc:title', 'dcterm:title', 'og:title', 'title', 'twitter:title']) {
    const v = tree.meta.titles.get(key)?.trim();
    if (v) return v;
  }
  return null;
}

export function extractFast(html: string, opts: ExtractOptions, deadline = Infinity): Extracted {
  const tree = new PageTree(html, deadline);
  const docTitle = tree.title?.replace(/\s+/g, ' ').trim() || null;
  let readable: { title: string | null; text: string } | null = null;
  if (tree.n - 1 <= opts.maxElements && tree.maxDepth <= opts.maxDepth) {
    const title = articleTitle(tree);
    const finder = new ArticleFinder(tree, title, deadline);
    const article = finder.find();
    if (article) {
      finder.prune(article);
      const text = renderText(tree, article.roots, (e) => article.cut[e] === 1);
      readable = { title: metadataTitle(tree) ?? (title.trim() || docTitle), text };
    }
  }
  if (readable && readable.text.length >= opts.minArticleChars) return { ...readable, extractor: 'fast' };
  // No article, or one too short to trust: the page's text without furniture, unless it has none.
  const fallback = renderText(tree, [0], (e) => (tree.kind(e) & K.FURNITURE) !== 0);
  if (!fallback && readable) return { ...readable, extractor: 'fast' };
  return { title: readable?.title ?? docTitle, text: fallback, extractor: 'fallback' };
}
