/**
 * Tag names as small integers, and what each tag means to extraction as bits, so the hot
 * loops test a typed-array entry instead of a string in a Set.
 */

/** Bits of `TAG_KIND[tag]`. */
export const K = {
  VOID: 1 << 0, // no end tag, never has children
  RAW: 1 << 1, // contents are raw text up to the end tag (script, style, title, …)
  NEVER_TEXT: 1 << 2, // contents are never page text (script, style, forms, media, head)
  BLOCK: 1 << 3, // starts a new line in the output
  DIV_TO_P: 1 << 4, // Readability's DIV_TO_P_ELEMS: a div holding one of these is not a paragraph
  PHRASING: 1 << 5, // Readability's PHRASING_ELEMS
  TEXTISH: 1 << 6, // Readability's "textish" tags for text density
  HEADING: 1 << 7, // h1–h6
  LIST: 1 << 8, // ul, ol
  FURNITURE: 1 << 9, // page furniture the fallback drops (nav, header, footer, form, aside, …)
  PRUNE: 1 << 10, // dropped from an article when small (captions, media, nav, …)
  SCORE: 1 << 11, // Readability's DEFAULT_TAGS_TO_SCORE
  EMBED: 1 << 12, // object, embed, iframe
} as const;

const NAMES = [
  '#unknown', 'html', 'head', 'body', 'title', 'meta', 'link', 'script', 'style', 'noscript', 'template', 'svg', 'math',
  'iframe', 'object', 'embed', 'canvas', 'select', 'option', 'optgroup', 'button', 'input', 'textarea', 'datalist', 'output',
  'div', 'p', 'span', 'a', 'br', 'hr', 'img', 'picture', 'video', 'audio', 'source', 'track', 'figure', 'figcaption',
  'section', 'article', 'main', 'nav', 'header', 'footer', 'aside', 'form', 'fieldset', 'legend', 'menu', 'dialog',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td',
  'th', 'caption', 'col', 'colgroup', 'pre', 'code', 'blockquote', 'address', 'details', 'summary', 'abbr', 'b', 'bdo',
  'cite', 'data', 'dfn', 'em', 'i', 'kbd', 'label', 'mark', 'meter', 'progress', 'q', 'ruby', 'rt', 'rp', 'samp', 'small',
  'strong', 'sub', 'sup', 'time', 'var', 'wbr', 'del', 'ins', 'u', 's', 'font', 'center', 'area', 'base', 'basefont', 'param',
  'frame', 'frameset', 'command', 'image', 'isindex', 'keygen', 'xmp', 'noembed', 'noframes', 'plaintext', 'tt', 'big',
] as const;

export type TagName = (typeof NAMES)[number];
export const KNOWN_TAGS = NAMES.length;
const ids = new Map<string, number>(NAMES.map((n, i) => [n, i]));
/** Id of a known tag (compile-time checked name). */
export const T = (name: TagName): number => ids.get(name) as number;
export const knownTagId = (lowerName: string): number | undefined => ids.get(lowerName);
export const tagName = (id: number): string => NAMES[id] ?? '#custom';

/** Ids of the tags the engine tests in its hot loops, as plain properties (no Map look-up per test). */
export const Tag = {
  a: T('a'),
  address: T('address'),
  blockquote: T('blockquote'),
  body: T('body'),
  br: T('br'),
  caption: T('caption'),
  code: T('code'),
  col: T('col'),
  colgroup: T('colgroup'),
  dd: T('dd'),
  del: T('del'),
  div: T('div'),
  dl: T('dl'),
  dt: T('dt'),
  fieldset: T('fieldset'),
  figure: T('figure'),
  form: T('form'),
  h1: T('h1'),
  h2: T('h2'),
  hr: T('hr'),
  html: T('html'),
  img: T('img'),
  input: T('input'),
  ins: T('ins'),
  li: T('li'),
  meta: T('meta'),
  ol: T('ol'),
  p: T('p'),
  pre: T('pre'),
  section: T('section'),
  table: T('table'),
  td: T('td'),
  tfoot: T('tfoot'),
  th: T('th'),
  thead: T('thead'),
  title: T('title'),
  tr: T('tr'),
  ul: T('ul'),
} as const;

export const TAG_KIND = new Uint32Array(KNOWN_TAGS);
const mark = (bit: number, names: readonly TagName[]) => {
  for (const n of names) TAG_KIND[T(n)] |= bit;
};
mark(K.VOID, ['area', 'base', 'basefont', 'br', 'col', 'command', 'embed', 'frame', 'hr', 'image', 'img', 'input', 'isindex', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
mark(K.RAW, ['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);
mark(K.NEVER_TEXT, ['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas', 'select', 'option', 'optgroup', 'button', 'input', 'textarea', 'datalist', 'head', 'title', 'meta', 'link', 'xmp', 'noembed', 'noframes', 'plaintext', 'frameset']);
mark(K.BLOCK, [
  'address', 'article', 'aside', 'blockquote', 'body', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'legend', 'li', 'main',
  'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'ul', 'center', 'menu',
]);
mark(K.DIV_TO_P, ['blockquote', 'dl', 'div', 'img', 'ol', 'p', 'pre', 'table', 'ul']);
mark(K.PHRASING, [
  'abbr', 'audio', 'b', 'bdo', 'br', 'button', 'cite', 'code', 'data', 'datalist', 'dfn', 'em', 'embed', 'i', 'img', 'input',
  'kbd', 'label', 'mark', 'math', 'meter', 'noscript', 'object', 'output', 'progress', 'q', 'ruby', 'samp', 'script', 'select',
  'small', 'span', 'strong', 'sub', 'sup', 'textarea', 'time', 'var', 'wbr',
]);
mark(K.TEXTISH, ['span', 'li', 'td', 'blockquote', 'dl', 'div', 'img', 'ol', 'p', 'pre', 'table', 'ul']);
mark(K.HEADING, ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
mark(K.LIST, ['ul', 'ol']);
mark(K.FURNITURE, ['nav', 'header', 'footer', 'form', 'aside', 'menu', 'dialog']);
mark(K.PRUNE, ['figure', 'figcaption', 'picture', 'video', 'audio', 'nav', 'aside', 'footer', 'form', 'button', 'header']);
mark(K.SCORE, ['section', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'td', 'pre']);
mark(K.EMBED, ['object', 'embed', 'iframe']);

/**
 * htmlparser2's rule (the parser linkedom uses, so Readability sees the same tree): a start
 * tag closes the open element on top while that element's tag is in this set.
 */
export const OPEN_IMPLIES_CLOSE: (readonly number[] | undefined)[] = new Array(KNOWN_TAGS);
{
  const form = ['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea'] as const;
  const closes = (names: readonly TagName[], closed: readonly TagName[]) => {
    for (const n of names) OPEN_IMPLIES_CLOSE[T(n)] = closed.map(T);
  };
  closes(['tr'], ['tr', 'th', 'td']);
  closes(['th'], ['th']);
  closes(['td'], ['thead', 'th', 'td']);
  closes(['body'], ['head', 'link', 'script']);
  closes(['li'], ['li']);
  closes(['select', 'input', 'output', 'button', 'datalist', 'textarea'], form);
  closes(['option'], ['option']);
  closes(['optgroup'], ['optgroup', 'option']);
  closes(['dd', 'dt'], ['dd', 'dt']);
  closes(['rt', 'rp'], ['rt', 'rp']);
  closes(['tbody', 'tfoot'], ['thead', 'tbody']);
  closes(
    ['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset',
      'figcaption', 'figure', 'footer', 'form', 'header', 'hr', 'main', 'nav', 'ol', 'pre', 'section', 'table', 'ul'],
    ['p'],
  );
}
