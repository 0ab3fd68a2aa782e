/**
 * Main text of one HTML page: Readability on linkedom's DOM, with a streaming htmlparser2
 * fallback when Readability finds no article (or the page is too big or odd for a DOM).
 * Pure and synchronous: it runs inside a worker thread that can be stopped (./pool.ts).
 */
import { lazyPackage } from '../core/lazy-package.js';
import { FURNITURE_NAMES } from './fast/tree.js';
import { TextBuilder } from './text-builder.js';

const readability = lazyPackage<typeof import('@mozilla/readability')>('@mozilla/readability');
const htmlParser2 = lazyPackage<typeof import('htmlparser2')>('htmlparser2');
const linkedom = lazyPackage<typeof import('linkedom')>('linkedom');

export interface Extracted {
  title: string | null;
  text: string;
  extractor: 'readability' | 'fast' | 'fallback';
}

export interface ExtractOptions {
  /** Pages with more elements than this skip Readability (its own guard does not work on linkedom). */
  maxElements: number;
  /** Pages nested deeper than this skip Readability, whose time grows with depth squared (4.5 s at depth 1,000). */
  maxDepth: number;
  /** Readability's result is used when it has at least this many characters; else the fallback's. */
  minArticleChars: number;
}

export const DEFAULT_EXTRACT: ExtractOptions = { maxElements: 60_000, maxDepth: 200, minArticleChars: 200 };

/** An upper bound on the number of elements, without parsing: start tags are "<" then a letter. */
function countTags(html: string): number {
  let n = 0;
  for (let i = html.indexOf('<'); i !== -1; i = html.indexOf('<', i + 1)) {
    const c = html.charCodeAt(i + 1) | 32;
    if (c >= 97 && c <= 122) n++;
  }
  return n;
}

/** Deepest element nesting under `root`, walked without recursion. */
function nestingDepth(root: DomNode): number {
  let deepest = 0;
  const stack: [DomNode, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [DomNode, number];
    if (depth > deepest) deepest = depth;
    const children = node.childNodes;
    for (let i = 0; i < children.length; i++) if (children[i].nodeType === 1) stack.push([children[i], depth + 1]);
  }
  return deepest;
}

/** Elements whose content is never text. */
const NEVER_TEXT = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'select', 'option', 'button', 'input', 'textarea', 'head']);
/** Page furniture the fallback drops (Readability makes its own choices). */
const FURNITURE = new Set(['nav', 'header', 'footer', 'form', 'aside', 'menu', 'dialog']);
/** Elements that start a new line. */
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'legend', 'li', 'main',
  'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul',
]);

interface DomNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}

/** Block-structured text of a DOM subtree, walked without recursion (pages nest deep). */
export function domText(root: DomNode): string {
  const out = new TextBuilder();
  const stack: { node: DomNode; exit: boolean }[] = [{ node: root, exit: false }];
  while (stack.length > 0) {
    const { node, exit } = stack.pop() as { node: DomNode; exit: boolean };
    if (node.nodeType === 3) {
      out.text(node.textContent ?? '');
      continue;
    }
    if (node.nodeType !== 1 && node.nodeType !== 9 && node.nodeType !== 11) continue;
    const tag = node.nodeName.toLowerCase();
    if (exit) {
      if (tag === 'pre') out.exitPre();
      else if (tag === 'td' || tag === 'th') out.cell();
      else if (BLOCK.has(tag)) out.newline();
      continue;
    }
    if (NEVER_TEXT.has(tag)) continue;
    if (tag === 'br') {
      out.newline();
      continue;
    }
    if (tag === 'pre') out.enterPre();
    else if (BLOCK.has(tag) && tag !== 'td' && tag !== 'th') out.newline();
    stack.push({ node, exit: true });
    const children = node.childNodes;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], exit: false });
  }
  return out.finish();
}

/** The fallback: stream the HTML, drop furniture and non-text elements, keep blocks as lines. */
export function fallbackText(html: string): { title: string | null; text: string } {
  const out = new TextBuilder();
  let skip = 0;
  let title: string | null = null;
  let inTitle = false;
  const parser = new (htmlParser2().Parser)(
    {
      onopentag(name) {
        if (name === 'title') inTitle = true; // in <head>, which is skipped otherwise
        if (skip > 0) {
          if (!VOID.has(name)) skip++;
          return;
        }
        if (NEVER_TEXT.has(name) || FURNITURE.has(name)) {
          if (!VOID.has(name)) skip = 1;
          return;
        }
        if (name === 'br') out.newline();
        else if (name === 'pre') out.enterPre();
        else if (BLOCK.has(name) && name !== 'td' && name !== 'th') out.newline();
      },
      ontext(text) {
        if (inTitle) title = (title ?? '') + text;
        else if (skip === 0) out.text(text);
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
        if (skip > 0) {
          if (!VOID.has(name)) skip--;
          return;
        }
        if (name === 'pre') out.exitPre();
        else if (name === 'td' || name === 'th') out.cell();
        else if (BLOCK.has(name)) out.newline();
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  const t = (title as string | null)?.replace(/\s+/g, ' ').trim() || null;
  return { title: t, text: out.finish() };
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr', 'param']);

interface DomElement extends DomNode {
  tagName: string;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  querySelector(selector: string): DomElement | null;
  remove(): void;
}

/** Tags of page furniture that Readability leaves inside articles (their class/id words: FURNITURE_NAMES). */
const FURNITURE_TAGS = 'figure, figcaption, picture, video, audio, nav, aside, footer, form, button, header';

const textLength = (el: DomNode) => (el.textContent ?? '').replace(/\s+/g, ' ').trim().length;

/**
 * What Readability keeps but readers skip: captions, bylines and dates, share and related
 * boxes (by tag and by class/id words), and blocks that are mostly links. An element is only
 * dropped when it holds a small part of the article, so a mislabelled wrapper never costs the text.
 */
function prune(content: DomElement): void {
  const total = Math.max(1, textLength(content));
  const small = (el: DomElement) => textLength(el) < total * 0.25;
  for (const el of Array.from(content.querySelectorAll(FURNITURE_TAGS))) if (small(el)) el.remove();
  for (const el of Array.from(content.querySelectorAll('[class], [id]'))) {
    const names = `${el.getAttribute('class') ?? ''} ${el.getAttribute('id') ?? ''}`;
    if (FURNITURE_NAMES.test(names) && small(el)) el.remove();
  }
  for (const el of Array.from(content.querySelectorAll('ul, ol, div, section, table, p'))) {
    const length = textLength(el);
    if (length === 0 || length > 2000 || !small(el)) continue;
    const linked = Array.from(el.querySelectorAll('a')).reduce((n, a) => n + textLength(a), 0);
    if (linked / length > 0.6) el.remove();
  }
}

/** linkedom needs <html>, <head> and <body> to build a document Readability can use. */
function wrap(html: string): string {
  if (/<body[\s>]/i.test(html)) return html;
  if (/<html[\s>]/i.test(html)) return html.replace(/(<html[^>]*>)/i, '$1<head></head><body>').replace(/<\/html>\s*$/i, '</body></html>');
  return `<!DOCTYPE html><html><head></head><body>${html}</body></html>`;
}

export function extractHtml(html: string, url: string | null, opts: ExtractOptions = DEFAULT_EXTRACT): Extracted {
  let readable: { title: string | null; text: string } | null = null;
  try {
    // Too many or too deeply nested elements for Readability: straight to the streaming fallback.
    const { document } = countTags(html) <= opts.maxElements ? linkedom().parseHTML(wrap(html)) : { document: null };
    if (document && nestingDepth(document.documentElement as unknown as DomNode) <= opts.maxDepth) {
      const docTitle = document.title || null;
      const article = new (readability().Readability)(document as never, { serializer: (el: unknown) => el, keepClasses: true }).parse();
      if (article?.content) {
        const content = article.content as unknown as DomElement;
        prune(content);
        const text = domText(content);
        readable = { title: article.title?.trim() || docTitle, text };
      }
    }
  } catch {
    readable = null; // a page Readability cannot handle gets the fallback
  }
  void url;
  if (readable && readable.text.length >= opts.minArticleChars) return { ...readable, extractor: 'readability' };
  // No article, or one too short to trust: the fallback's text, unless it has none.
  const fallback = fallbackText(html);
  if (!fallback.text && readable) return { ...readable, extractor: 'readability' };
  return { title: readable?.title ?? fallback.title, text: fallback.text, extractor: 'fallback' };
}
