/**
 * One pass over a page's HTML into a compact tree held in typed arrays: no DOM, no object
 * per node. Elements are numbered in document order (preorder), so a subtree is the range
 * [e, end[e]) and the children of e are e+1, end[e+1], … . Text is kept as offsets into the
 * page (decoded only when emitted); an event list (open e, text t, close e) keeps their order.
 *
 * Tree building follows htmlparser2 (which linkedom, and so our Readability path, uses):
 * void elements, raw-text elements, "a start tag closes the open p/li/td…", and an end tag
 * closes up to the nearest open element of its name or is ignored.
 */
import { decodeHTML } from 'entities';
import { K, KNOWN_TAGS, OPEN_IMPLIES_CLOSE, TAG_KIND, Tag, knownTagId } from './tags.js';

/** Element flag bits (`flags[e]`). */
export const F = {
  HIDDEN: 1 << 0, // display:none, visibility:hidden, hidden, aria-hidden="true"
  DIALOG: 1 << 1, // aria-modal="true" role="dialog"
  ROLE_UNLIKELY: 1 << 2, // role = menu, navigation, complementary, …
  BYLINE_ATTR: 1 << 3, // rel="author" or itemprop ~ author
  HASH_HREF: 1 << 4, // <a href="#…">: counts 0.3 in link density
  NOT_DATA_TABLE: 1 << 5, // role="presentation" or datatable="0"
  SUMMARY: 1 << 6, // <table summary>
  VIDEO: 1 << 7, // an embed whose attributes point at a video host
  // From class and id words (cached per distinct class/id pair):
  CLASS_NEG: 1 << 8,
  CLASS_POS: 1 << 9,
  ID_NEG: 1 << 10,
  ID_POS: 1 << 11,
  UNLIKELY: 1 << 12,
  MAYBE: 1 << 13,
  BYLINE: 1 << 14,
  SHARE: 1 << 15,
  FURNITURE_NAME: 1 << 16,
  HAS_CLASS: 1 << 17,
  IN_TABLE: 1 << 18, // has a table ancestor
  IN_CODE: 1 << 19, // has a code ancestor
} as const;

// Readability 0.6's expressions (Readability.js REGEXPS), so both engines judge alike.
const RX = {
  unlikely:
    /-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote/i,
  maybe: /and|article|body|column|content|main|shadow/i,
  positive: /article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story/i,
  negative:
    /-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget/i,
  byline: /byline|author|dateline|writtenby|p-author/i,
  share: /(\b|_)(share|sharedaddy)(\b|_)/i,
  video: /\/\/(www\.)?((dailymotion|youtube|youtube-nocookie|player\.vimeo|v\.qq)\.com|(archive|upload\.wikimedia)\.org|player\.twitch\.tv)/i,
};
/** Class or id words of page furniture that Readability leaves inside articles (shared with readable.ts). */
export const FURNITURE_NAMES =
  /(?:^|[\s_-])(?:caption|credits?|byline|dateline|timestamp|share|sharing|social|related|recommended|promo|newsletter|subscribe|signup|gallery|slideshow|breadcrumbs?|tags|author|advert|ads?|sponsored|outbrain|taboola|comments?|disclaimer|copyright|read-?more|more-stories|popular|trending)(?:$|[\s_-])/i;
/** (length, first letter) of the attribute names read, as a lookup table: [length << 5 | letter & 31]. */
const WANTED_ATTR = new Uint8Array(32 * 32);
for (const name of ['class', 'id', 'style', 'hidden', 'aria-hidden', 'aria-modal', 'role', 'rel', 'itemprop', 'href', 'datatable', 'summary', 'lang', 'property', 'name', 'content']) {
  WANTED_ATTR[(name.length << 5) | (name.charCodeAt(0) & 31)] = 1;
}
const UNLIKELY_ROLES = new Set(['menu', 'menubar', 'complementary', 'navigation', 'alert', 'alertdialog', 'dialog']);

/** Raised from inside the pass when a page overruns its time budget. */
export class ExtractionTimeout extends Error {}

/** Growable typed arrays, reused across pages (one parse at a time per thread). */
class Pool {
  i32: Int32Array[] = [];
  get(k: number, size: number): Int32Array {
    let a = this.i32[k];
    if (!a || a.length < size) a = this.i32[k] = new Int32Array(Math.max(size, (a?.length ?? 0) * 2, 1024));
    return a;
  }
}
const pool = new Pool();

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13 || c === 12;
const isLetter = (c: number) => ((c | 32) >= 97 && (c | 32) <= 122);
const COMMAS = new Set([0x060c, 0xfe50, 0xfe10, 0xfe11, 0x2e41, 0x2e34, 0x2e32, 0xff0c]);

export interface Meta {
  /** og:title, twitter:title, dc:title … in Readability's order of preference. */
  titles: Map<string, string>;
  htmlLang: string | null;
}

export class PageTree {
  /** Elements; element 0 is the document. */
  n = 1;
  tag!: Int32Array;
  parent!: Int32Array;
  end!: Int32Array;
  flags!: Int32Array;
  depth!: Int32Array;
  classS!: Int32Array;
  classE!: Int32Array;
  /** Direct text of each element: normalised characters and commas (all kinds, and ASCII). */
  ownText!: Int32Array;
  ownCommas!: Int32Array;
  ownAsciiCommas!: Int32Array;
  evOpen!: Int32Array;
  evClose!: Int32Array;
  /** Text pieces: [start, end) in the page, parent element, normalised length, needs decoding. */
  nText = 0;
  textS!: Int32Array;
  textE!: Int32Array;
  textParent!: Int32Array;
  textLen!: Int32Array;
  textEntity!: Int32Array;
  textCommas!: Int32Array;
  /** Events: e*2 (open), e*2+1 (close), ~t (text t). */
  nEv = 0;
  ev!: Int32Array;
  body = 0;
  maxDepth = 0;
  title: string | null = null;
  meta: Meta = { titles: new Map(), htmlLang: null };
  /** Custom element names seen on this page get ids from KNOWN_TAGS on. */
  private custom = new Map<string, number>();
  private classBits = new Map<string, number>();
  private idBits = new Map<string, number>();

  constructor(readonly html: string, deadline = Infinity) {
    this.parse(deadline);
  }

  tagOf(e: number): number {
    return this.tag[e];
  }
  kind(e: number): number {
    const t = this.tag[e];
    return t < KNOWN_TAGS ? TAG_KIND[t] : 0;
  }
  className(e: number): string {
    return this.classS[e] < 0 ? '' : this.html.slice(this.classS[e], this.classE[e]);
  }
  /** The decoded text of piece t. */
  text(t: number): string {
    const s = this.html.slice(this.textS[t], this.textE[t]);
    return this.textEntity[t] ? decodeEntities(s) : s;
  }

  private parse(deadline: number): void {
    const html = this.html;
    const len = html.length;
    // Upper bounds: an element per "<", a text piece between two of them.
    let lt = 0;
    for (let i = html.indexOf('<'); i !== -1; i = html.indexOf('<', i + 1)) lt++;
    const cap = lt + 2;
    this.tag = pool.get(0, cap);
    this.parent = pool.get(1, cap);
    this.end = pool.get(2, cap);
    this.flags = pool.get(3, cap);
    this.depth = pool.get(4, cap);
    this.classS = pool.get(5, cap);
    this.classE = pool.get(6, cap);
    this.ownText = pool.get(7, cap);
    this.ownCommas = pool.get(8, cap);
    this.ownAsciiCommas = pool.get(9, cap);
    this.evOpen = pool.get(10, cap);
    this.evClose = pool.get(11, cap);
    this.textS = pool.get(12, cap);
    this.textE = pool.get(13, cap);
    this.textParent = pool.get(14, cap);
    this.textLen = pool.get(15, cap);
    this.textEntity = pool.get(16, cap);
    this.textCommas = pool.get(17, cap);
    this.ev = pool.get(18, cap * 3);
    const stack = pool.get(19, cap);
    const openCount = pool.get(20, KNOWN_TAGS + 1024);
    openCount.fill(0);

    let sp = 0; // stack[0] = document
    stack[0] = 0;
    this.tag[0] = 0;
    this.parent[0] = -1;
    this.flags[0] = 0;
    this.depth[0] = 0;
    this.classS[0] = -1;
    this.ownText[0] = this.ownCommas[0] = this.ownAsciiCommas[0] = 0;
    this.evOpen[0] = this.nEv;
    this.ev[this.nEv++] = 0;

    const close = (e: number) => {
      this.end[e] = this.n;
      this.evClose[e] = this.nEv;
      this.ev[this.nEv++] = e * 2 + 1;
      const t = this.tag[e];
      if (t < openCount.length) openCount[t]--;
    };
    const popTo = (level: number) => {
      while (sp > level) close(stack[sp--]);
    };

    let i = 0;
    let steps = 0;
    while (i < len) {
      const open = html.indexOf('<', i);
      const textEnd = open === -1 ? len : open;
      if (textEnd > i) this.addText(i, textEnd, stack[sp]);
      if (open === -1) break;
      if ((++steps & 1023) === 0 && performance.now() > deadline) throw new ExtractionTimeout('time budget spent while parsing');
      const c = html.charCodeAt(open + 1);
      if (c === 33 /* ! */) {
        // Comment, doctype or CDATA.
        if (html.startsWith('<!--', open)) {
          const e = html.indexOf('-->', open + 4);
          i = e === -1 ? len : e + 3;
        } else {
          const e = html.indexOf('>', open + 2);
          i = e === -1 ? len : e + 1;
        }
        continue;
      }
      if (c === 63 /* ? */) {
        const e = html.indexOf('>', open + 2);
        i = e === -1 ? len : e + 1;
        continue;
      }
      if (c === 47 /* / */) {
        if (!isLetter(html.charCodeAt(open + 2))) {
          const e = html.indexOf('>', open + 2);
          i = e === -1 ? len : e + 1;
          continue;
        }
        const j = nameEnd(html, open + 2);
        const t = this.tagId(html, open + 2, j);
        const e = html.indexOf('>', j);
        i = e === -1 ? len : e + 1;
        if (openCount[t] > 0) {
          let k = sp;
          while (k > 0 && this.tag[stack[k]] !== t) k--;
          popTo(k - 1);
        } else if (t === Tag.br || t === Tag.p) {
          // As htmlparser2: a stray </br> or </p> stands for an empty element.
          close(this.element(t, stack[sp], sp + 1));
        }
        continue;
      }
      if (!isLetter(c)) {
        // A "<" that starts no tag is text.
        this.addText(open, open + 1, stack[sp]);
        i = open + 1;
        continue;
      }
      // Start tag: name, then attributes up to an unquoted ">".
      const j = nameEnd(html, open + 1);
      const t = this.tagId(html, open + 1, j);
      const implied = t < KNOWN_TAGS ? OPEN_IMPLIES_CLOSE[t] : undefined;
      if (implied) while (sp > 0 && implied.includes(this.tag[stack[sp]])) close(stack[sp--]);
      const e = this.element(t, stack[sp], sp + 1);
      i = this.attributes(e, j);
      const kind = t < KNOWN_TAGS ? TAG_KIND[t] : 0;
      if (kind & K.VOID) {
        close(e);
        continue;
      }
      if (kind & K.RAW) {
        // Raw text up to the matching end tag; only <title>'s is kept.
        const name = html.slice(open + 1, j);
        const endTag = findEndTag(html, name, i);
        if (t === Tag.title && this.title === null) this.title = decodeEntities(html.slice(i, endTag === -1 ? len : endTag));
        close(e);
        if (endTag === -1) i = len;
        else {
          const gt = html.indexOf('>', endTag);
          i = gt === -1 ? len : gt + 1;
        }
        continue;
      }
      stack[++sp] = e;
      if (t < openCount.length) openCount[t]++;
      if (t === Tag.body && this.body === 0) this.body = e;
    }
    popTo(0);
    this.end[0] = this.n;
    this.evClose[0] = this.nEv;
    this.ev[this.nEv++] = 1;
  }

  private tagId(html: string, start: number, end: number): number {
    let upper = false;
    for (let i = start; i < end; i++) {
      const c = html.charCodeAt(i);
      if (c >= 65 && c <= 90) upper = true;
    }
    const name = upper ? html.slice(start, end).toLowerCase() : html.slice(start, end);
    const known = knownTagId(name);
    if (known !== undefined) return known;
    let id = this.custom.get(name);
    if (id === undefined) {
      id = KNOWN_TAGS + this.custom.size;
      this.custom.set(name, id);
    }
    return id;
  }

  private element(t: number, parent: number, depth: number): number {
    const e = this.n++;
    this.tag[e] = t;
    this.parent[e] = parent;
    this.depth[e] = depth;
    if (depth > this.maxDepth) this.maxDepth = depth;
    let f = this.flags[parent] & (F.IN_TABLE | F.IN_CODE);
    const pt = this.tag[parent];
    if (pt === Tag.table) f |= F.IN_TABLE;
    if (pt === Tag.code) f |= F.IN_CODE;
    this.flags[e] = f;
    this.classS[e] = -1;
    this.classE[e] = -1;
    this.ownText[e] = 0;
    this.ownCommas[e] = 0;
    this.ownAsciiCommas[e] = 0;
    this.evOpen[e] = this.nEv;
    this.ev[this.nEv++] = e * 2;
    return e;
  }

  /** Reads the attributes of element e from `i` (after its name); returns the index after ">". */
  private attributes(e: number, i: number): number {
    const html = this.html;
    const len = html.length;
    let idS = -1;
    let idE = -1;
    let role: string | null = null;
    let ariaModal = false;
    const meta: { key: string | null; content: string | null } | null = this.tag[e] === Tag.meta ? { key: null, content: null } : null;
    let after = len;
    while (i < len) {
      let c = html.charCodeAt(i);
      while (isSpace(c) || c === 47) c = html.charCodeAt(++i);
      if (c === 62 || i >= len) {
        after = i + 1;
        break;
      }
      const nameStart = i;
      while (i < len) {
        c = html.charCodeAt(i);
        if (isSpace(c) || c === 61 || c === 62 || c === 47) break;
        i++;
      }
      const nameEnd = i;
      while (isSpace(c)) c = html.charCodeAt(++i);
      let vs = -1;
      let ve = -1;
      if (c === 61 /* = */) {
        c = html.charCodeAt(++i);
        while (isSpace(c)) c = html.charCodeAt(++i);
        if (c === 34 || c === 39) {
          const q = html.indexOf(c === 34 ? '"' : "'", i + 1);
          vs = i + 1;
          ve = q === -1 ? len : q;
          i = q === -1 ? len : q + 1;
        } else {
          vs = i;
          while (i < len) {
            c = html.charCodeAt(i);
            if (isSpace(c) || c === 62) break;
            i++;
          }
          ve = i;
        }
      }
      // Only a few attribute names matter: skip the others before making a string.
      if (!WANTED_ATTR[((nameEnd - nameStart) << 5) | (html.charCodeAt(nameStart) & 31)]) continue;
      const name = html.slice(nameStart, nameEnd).toLowerCase();
      switch (name) {
        case 'class':
          if (vs >= 0) (this.classS[e] = vs), (this.classE[e] = ve);
          break;
        case 'id':
          if (vs >= 0) (idS = vs), (idE = ve);
          break;
        case 'style':
          if (vs >= 0 && /display\s*:\s*none|visibility\s*:\s*hidden/i.test(html.slice(vs, ve))) this.flags[e] |= F.HIDDEN;
          break;
        case 'hidden':
          this.flags[e] |= F.HIDDEN;
          break;
        case 'aria-hidden':
          if (vs >= 0 && html.slice(vs, ve) === 'true') this.flags[e] |= F.HIDDEN;
          break;
        case 'aria-modal':
          ariaModal = vs >= 0 && html.slice(vs, ve) === 'true';
          break;
        case 'role':
          role = vs >= 0 ? html.slice(vs, ve) : '';
          break;
        case 'rel':
          if (vs >= 0 && html.slice(vs, ve) === 'author') this.flags[e] |= F.BYLINE_ATTR;
          break;
        case 'itemprop':
          if (vs >= 0 && html.slice(vs, ve).includes('author')) this.flags[e] |= F.BYLINE_ATTR;
          break;
        case 'href':
          if (vs >= 0 && ve - vs > 1 && html.charCodeAt(vs) === 35) this.flags[e] |= F.HASH_HREF;
          break;
        case 'datatable':
          if (vs >= 0 && html.slice(vs, ve) === '0') this.flags[e] |= F.NOT_DATA_TABLE;
          break;
        case 'summary':
          if (vs >= 0 && ve > vs) this.flags[e] |= F.SUMMARY;
          break;
        case 'lang':
          if (this.tag[e] === Tag.html && vs >= 0) this.meta.htmlLang = html.slice(vs, ve);
          break;
        case 'property':
        case 'name':
          if (meta && vs >= 0) meta.key = html.slice(vs, ve).toLowerCase().trim();
          break;
        case 'content':
          if (meta && vs >= 0) meta.content = html.slice(vs, ve);
          break;
      }
      if (vs >= 0 && this.kind(e) & K.EMBED && RX.video.test(html.slice(vs, ve))) this.flags[e] |= F.VIDEO;
    }
    if (role !== null) {
      if (UNLIKELY_ROLES.has(role)) this.flags[e] |= F.ROLE_UNLIKELY;
      if (role === 'presentation') this.flags[e] |= F.NOT_DATA_TABLE;
      if (role === 'dialog' && ariaModal) this.flags[e] |= F.DIALOG;
    }
    if (this.flags[e] & F.HIDDEN && this.classS[e] >= 0 && html.slice(this.classS[e], this.classE[e]).includes('fallback-image')) {
      this.flags[e] &= ~F.HIDDEN; // Readability keeps wikimedia's math fallback images
    }
    if (this.classS[e] >= 0 || idS >= 0) this.flags[e] |= this.wordBits(this.className(e), idS >= 0 ? html.slice(idS, idE) : '');
    if (meta?.key && meta.content && !this.meta.titles.has(meta.key)) this.meta.titles.set(meta.key, decodeEntities(meta.content));
    return after;
  }

  /**
   * Readability's class/id tests, once per distinct class or id string on the page. It tests
   * "class id" as one string; no expression here can match across the space, so testing each
   * part alone and joining the bits gives the same answers.
   */
  private wordBits(cls: string, id: string): number {
    return (cls ? this.partBits(cls, true) : 0) | (id ? this.partBits(id, false) : 0);
  }

  private partBits(part: string, isClass: boolean): number {
    const cache = isClass ? this.classBits : this.idBits;
    let bits = cache.get(part);
    if (bits !== undefined) return bits;
    bits = isClass ? F.HAS_CLASS : 0;
    if (RX.negative.test(part)) bits |= isClass ? F.CLASS_NEG : F.ID_NEG;
    if (RX.positive.test(part)) bits |= isClass ? F.CLASS_POS : F.ID_POS;
    if (RX.unlikely.test(part)) bits |= F.UNLIKELY;
    if (RX.maybe.test(part)) bits |= F.MAYBE;
    if (RX.byline.test(part)) bits |= F.BYLINE;
    if (RX.share.test(part)) bits |= F.SHARE;
    if (FURNITURE_NAMES.test(part)) bits |= F.FURNITURE_NAME;
    cache.set(part, bits);
    return bits;
  }

  /** A text piece [s, e) under element `parent`: its normalised length (whitespace runs count once, ends trimmed) and commas. */
  private addText(s: number, e: number, parent: number): void {
    const html = this.html;
    let chars = 0;
    let runs = 0;
    let inSpace = true;
    let commas = 0;
    let ascii = 0;
    let entity = 0;
    for (let i = s; i < e; i++) {
      const c = html.charCodeAt(i);
      if (c <= 32 && isSpace(c)) {
        inSpace = true;
        continue;
      }
      if (inSpace && chars > 0) runs++;
      inSpace = false;
      chars++;
      if (c === 44) ascii++;
      else if (c === 38 /* & */) {
        // Decoded when emitted (legacy forms without ";" too); a terminated entity counts as one character.
        entity = 1;
        let k = i + 1;
        while (k < e && k - i < 32 && html.charCodeAt(k) !== 59 && !isSpace(html.charCodeAt(k)) && html.charCodeAt(k) !== 38) k++;
        if (k < e && html.charCodeAt(k) === 59 && k > i + 1) i = k;
      } else if (c > 0x600 && COMMAS.has(c)) commas++;
    }
    const t = this.nText++;
    this.textS[t] = s;
    this.textE[t] = e;
    this.textParent[t] = parent;
    this.textLen[t] = chars + runs;
    this.textEntity[t] = entity;
    this.textCommas[t] = commas + ascii;
    this.ev[this.nEv++] = ~t;
    this.ownText[parent] += chars + runs;
    this.ownCommas[parent] += commas + ascii;
    this.ownAsciiCommas[parent] += ascii;
  }
}

/** End of a tag name that starts at `i`. */
function nameEnd(html: string, i: number): number {
  const len = html.length;
  while (i < len) {
    const d = html.charCodeAt(i);
    if (isSpace(d) || d === 62 || d === 47) break;
    i++;
  }
  return i;
}

/** Index of the "</name" that ends a raw-text element, or -1. */
function findEndTag(html: string, name: string, from: number): number {
  const re = new RegExp(`</${name}(?=[\\s/>])`, 'gi');
  re.lastIndex = from;
  const m = re.exec(html);
  return m ? m.index : -1;
}

export function decodeEntities(s: string): string {
  return s.includes('&') ? decodeHTML(s) : s;
}
