/**
 * Page templates: the main text wrapped in what real pages carry around it (navigation,
 * cookie banners, ads, sidebars of links, footers, scripts), in a few markup styles so an
 * extractor cannot rely on one layout.
 */
import type { Random } from '../../pipeline/core/random.js';
import type { Site } from './sites.js';

export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface PageContent {
  title: string;
  /** The main text, one entry per paragraph. */
  paragraphs: string[];
  /** Forum posts instead of paragraphs: author and text. */
  posts?: { author: string; date: string; text: string }[];
  lang: string;
  /** The charset named in <meta>, or null for none. */
  metaCharset: string | null;
  /** Titles of other pages of the site, for the sidebar. */
  related: string[];
}

const ADS = [
  'Sponsored: 10 tricks your bank does not want you to know',
  'Advertisement: Summer sale, up to 70% off garden furniture',
  'Sponsored: Doctors hate this one simple habit',
  'Advertisement: Compare car insurance in two minutes',
];

function header(site: Site): string {
  const links = site.nav.map((n) => `<li><a href="/${n.toLowerCase().replace(/\s+/g, '-')}">${escapeHtml(n)}</a></li>`).join('');
  return `<header class="site-header"><div class="logo"><a href="/">${escapeHtml(site.name)}</a></div><nav class="main-nav"><ul>${links}</ul></nav><form class="search" action="/search"><input name="q" placeholder="Search"><button>Go</button></form></header>`;
}

function footer(site: Site, random: Random): string {
  return `<footer class="site-footer"><p>&copy; ${2000 + random.int(10, 24)} ${escapeHtml(site.name)}. All rights reserved.</p><p><a href="/privacy">Privacy Policy</a> | <a href="/terms">Terms of Service</a> | <a href="/cookies">Cookie settings</a> | <a href="/contact">Contact us</a></p><p>Follow us on <a href="/social/x">X</a>, <a href="/social/facebook">Facebook</a> and <a href="/social/instagram">Instagram</a>.</p></footer>`;
}

const cookieBanner = () =>
  `<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience, analyse traffic and show personalised ads. By clicking "Accept all" you agree to our use of cookies.</p><button>Accept all</button><button>Manage preferences</button></div>`;

const ad = (random: Random) => `<div class="ad-slot" data-ad="${random.int(1000, 9999)}"><span class="ad-label">Advertisement</span><a href="https://ads.example/click?id=${random.int(1, 99999)}">${escapeHtml(random.pick(ADS))}</a></div>`;

function sidebar(related: string[]): string {
  if (related.length === 0) return '';
  return `<aside class="sidebar"><h3>Most read</h3><ol>${related.map((t, i) => `<li><a href="/related/${i}">${escapeHtml(t)}</a></li>`).join('')}</ol><h3>Newsletter</h3><p>Get the best stories in your inbox every morning.</p><form><input type="email" placeholder="Your e-mail"><button>Subscribe</button></form></aside>`;
}

function mainBody(content: PageContent, random: Random, style: number): string {
  if (content.posts) {
    const posts = content.posts
      .map((p, i) => `<div class="post" id="post-${i + 1}"><div class="post-meta"><span class="author">${escapeHtml(p.author)}</span> <time>${p.date}</time></div><div class="post-body"><p>${escapeHtml(p.text)}</p></div><div class="post-actions"><a href="#reply">Reply</a> <a href="#quote">Quote</a> <a href="#report">Report</a></div></div>`)
      .join('\n');
    return `<main><h1 class="thread-title">${escapeHtml(content.title)}</h1><div class="thread">${posts}</div></main>`;
  }
  const paragraphs = content.paragraphs.map((p, i) => {
    const body = `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`;
    return i === 2 && random.chance(0.5) ? `${body}\n${ad(random)}` : body;
  });
  const byline = `<p class="byline">By <a href="/authors/${random.int(1, 300)}">Staff Writer</a> &middot; <time>${random.int(1, 28)} May 2024</time></p>`;
  switch (style) {
    case 0:
      return `<main><article><h1>${escapeHtml(content.title)}</h1>${byline}\n${paragraphs.join('\n')}</article></main>`;
    case 1:
      return `<div id="content" class="content-area"><div class="entry"><h1 class="entry-title">${escapeHtml(content.title)}</h1><div class="entry-meta">${byline}</div><div class="entry-content">\n${paragraphs.join('\n')}\n</div><div class="share">Share this: <a href="/share/x">X</a> <a href="/share/fb">Facebook</a></div></div></div>`;
    default:
      return `<table class="layout"><tr><td class="main-column"><h2 class="headline">${escapeHtml(content.title)}</h2>\n${paragraphs.join('\n')}</td></tr></table>`;
  }
}

/** A whole HTML page around the content. */
export function renderPage(site: Site, content: PageContent, random: Random): string {
  const style = random.int(0, 2);
  const meta = content.metaCharset
    ? random.chance(0.5)
      ? `<meta charset="${content.metaCharset}">`
      : `<meta http-equiv="Content-Type" content="text/html; charset=${content.metaCharset}">`
    : '';
  const scripts = `<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());gtag('config','G-${random.int(100000, 999999)}');</script>`;
  return [
    '<!DOCTYPE html>',
    `<html lang="${content.lang}">`,
    `<head>${meta}<title>${escapeHtml(content.title)} | ${escapeHtml(site.name)}</title><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/static/site.css">${scripts}<style>.ad-slot{border:1px solid #ccc}</style></head>`,
    '<body>',
    random.chance(0.6) ? cookieBanner() : '',
    header(site),
    random.chance(0.5) ? ad(random) : '',
    '<div class="page">',
    mainBody(content, random, style),
    sidebar(content.related),
    '</div>',
    footer(site, random),
    '<script src="/static/tracking.js" async></script>',
    '</body>',
    '</html>',
  ]
    .filter(Boolean)
    .join('\n');
}

export function notFoundPage(site: Site): string {
  return `<!DOCTYPE html><html><head><title>Page not found | ${escapeHtml(site.name)}</title></head><body>${header(site)}<h1>404 - Page not found</h1><p>The page you requested does not exist. Try the search box.</p></body></html>`;
}
