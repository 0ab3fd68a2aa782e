/**
 * The fast engine's tree and its one promise about text: everything it emits is the page's
 * own visible text, in the page's order (checked against htmlparser2 as an independent parser).
 */
import { Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { extractFast, renderText } from '../pipeline/extract/fast/index.js';
import { T } from '../pipeline/extract/fast/tags.js';
import { PageTree } from '../pipeline/extract/fast/tree.js';
import { DEFAULT_EXTRACT } from '../pipeline/extract/readable.js';
import { sharedData } from './helpers/cli.js';

/** All text outside tags, comments and raw-text elements, by htmlparser2, whitespace removed. */
function visibleText(html: string): string {
  let out = '';
  let raw = 0;
  const rawTags = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);
  const parser = new Parser(
    {
      onopentag: (name) => void (rawTags.has(name) && raw++),
      onclosetag: (name) => void (rawTags.has(name) && raw > 0 && raw--),
      ontext: (t) => void (raw === 0 && (out += t)),
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  return out.replace(/\s+/g, '');
}

/** Is `a` a subsequence of `b` (characters in order, gaps allowed)? Returns the first character that is not. */
function notSubsequence(a: string, b: string): number {
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    j = b.indexOf(a[i], j);
    if (j === -1) return i;
    j++;
  }
  return -1;
}

function expectVisible(html: string): void {
  const text = extractFast(html, DEFAULT_EXTRACT).text.replace(/\s+/g, '');
  const at = notSubsequence(text, visibleText(html));
  expect(at, `emitted text not in the page from: ${text.slice(Math.max(0, at - 40), at + 40)}`).toBe(-1);
}

/** A seeded generator of messy HTML: nesting, unclosed and stray tags, entities, comments, scripts, attributes. */
function randomPage(seed: number): string {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s ^ (s >>> 15), 1 | s) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const pick = <X>(xs: readonly X[]) => xs[Math.floor(next() * xs.length)];
  const words = ['alpha', 'beta', 'gamma,', 'delta.', 'caf&eacute;', '&amp;', '&lt;tag&gt;', '&#8212;', 'x < y', 'naïve', '日本語', 'word', 'text'];
  const tags = ['div', 'p', 'span', 'a', 'ul', 'li', 'table', 'tr', 'td', 'h2', 'section', 'article', 'b', 'em', 'pre', 'br', 'img', 'nav', 'aside', 'footer', 'blockquote', 'custom-el'];
  const attrs = ['', ' class="content"', ' class="sidebar"', ' id="main"', ' class="share-box"', ' hidden', ' style="display:none"', ' href="#x"', ' class="byline"', " class='post body'"];
  let html = '<html><head><title>T &amp; t</title><script>var a = "<p>not text</p>";</script></head><body>';
  const open: string[] = [];
  for (let i = 0; i < 300; i++) {
    const r = next();
    if (r < 0.35) html += ` ${Array.from({ length: 1 + Math.floor(next() * 30) }, () => pick(words)).join(' ')} `;
    else if (r < 0.65) {
      const t = pick(tags);
      html += `<${t}${pick(attrs)}>`;
      if (t !== 'br' && t !== 'img') open.push(t);
    } else if (r < 0.85 && open.length) html += `</${open.pop()}>`;
    else if (r < 0.9) html += `</${pick(tags)}>`; // stray end tag
    else if (r < 0.94) html += '<!-- a comment <p>hidden</p> -->';
    else if (r < 0.97) html += '<style>p { color: red }</style>';
    else html += '<script>document.write("<div>x</div>")</script>';
  }
  return html; // left unclosed on purpose
}

describe('the fast engine emits only the page\'s visible text, in order', () => {
  it('on 300 generated messy pages', () => {
    for (let seed = 1; seed <= 300; seed++) expectVisible(randomPage(seed));
  });

  it.skipIf(!sharedData())('on every benchmark page in ../shared/data', async () => {
    const { aebPages, trafilaturaPages } = await import('../bench/extraction-data.js');
    const root = sharedData() as string;
    for (const page of [...aebPages(root), ...trafilaturaPages(root)]) expectVisible(page.html);
  }, 120_000);

  it('the check can fail: text that is not on the page is caught', () => {
    expect(notSubsequence('abc', 'a-b-c')).toBe(-1);
    expect(notSubsequence('acb', 'a-b-c')).toBe(2);
  });
});

describe('the typed-array tree', () => {
  const tags = (tree: PageTree) => Array.from({ length: tree.n - 1 }, (_, i) => tree.tag[i + 1]);

  it('closes p, li and td implicitly as htmlparser2 does, ignores stray end tags, keeps void elements empty', () => {
    const tree = new PageTree('<ul><li>one<li>two</ul><p>a<div>b</div></span><br><table><tr><td>x<td>y</table>');
    expect(tags(tree)).toEqual(['ul', 'li', 'li', 'p', 'div', 'br', 'table', 'tr', 'td', 'td'].map((n) => T(n as 'ul')));
    const li2 = 3;
    expect(tree.parent[li2]).toBe(1); // the second li is the ul's child, not the first li's
    const div = 5;
    expect(tree.parent[div]).toBe(0); // <div> closed the open <p>
    expect(tree.end[div]).toBe(div + 1);
    expect(renderText(tree, [0], () => false)).toBe('one\ntwo\na\nb\nx y');
  });

  it('reads raw text elements, comments and entities', () => {
    const tree = new PageTree('<title>A &amp; B</title><script>if (a < b) { x = "</div>" }</script><!-- <p>gone</p> --><p>caf&eacute; &lt;3 &#x263A;</p>');
    expect(tree.title).toBe('A & B');
    expect(renderText(tree, [0], () => false)).toBe('café <3 ☺');
  });

  it('counts normalised text and commas per element', () => {
    const tree = new PageTree('<p>  one,   two  </p><p>&amp;,&nbsp;x</p>');
    expect([tree.ownText[1], tree.ownAsciiCommas[1]]).toEqual([8, 1]); // "one, two"
    expect(tree.ownText[2]).toBe(4); // "&," + nbsp + "x": entities count once
  });

  it('is linear: 500,000 unclosed <div>s and 100,000 stray end tags', () => {
    const html = `<body>${'<div>'.repeat(500_000)}text${'</span>'.repeat(100_000)}`;
    const started = Date.now();
    const r = extractFast(html, DEFAULT_EXTRACT);
    expect(r).toMatchObject({ text: 'text', extractor: 'fallback' });
    expect(Date.now() - started).toBeLessThan(30_000); // a quadratic pass takes hours
  });

  it('keeps its time budget from inside the pass', () => {
    const html = `<body>${'<p>some words in a paragraph, with a comma</p>'.repeat(200_000)}</body>`;
    expect(() => extractFast(html, DEFAULT_EXTRACT, performance.now() + 1)).toThrow(/time budget/);
  });
});
