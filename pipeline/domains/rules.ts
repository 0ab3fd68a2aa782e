/**
 * URL rules for domain labels: a document's host, top-level domain or URL decides its
 * domain before any classifier is asked. The first matching rule wins; user rules come
 * before the built-in ones.
 *
 * A rule file (YAML or JSON) is a list of rules:
 *
 *   - domain: encyclopedia
 *     hosts: [wikipedia.org, britannica.com]   # the host or any subdomain of it
 *   - domain: government
 *     tlds: [gov, gov.uk, gouv.fr]             # the host ends in "." + one of these
 *   - domain: forum
 *     host_prefixes: [forum., forums., boards.]
 *     urls: ['/viewtopic\.php', '/threads?/']  # regular expressions on the whole URL
 */
import * as z from 'zod';
import { loadYaml, parseOptions } from '../core/config.js';

export const ruleSchema = z
  .object({
    domain: z.string().regex(/^[a-z0-9_-]+$/, 'a domain label is lower case letters, digits, "_" and "-"'),
    hosts: z.array(z.string()).default([]),
    tlds: z.array(z.string()).default([]),
    host_prefixes: z.array(z.string()).default([]),
    urls: z.array(z.string()).default([]),
  })
  .strict();
export type Rule = z.infer<typeof ruleSchema>;

/** Sites whose domain is not in doubt, by kind; a sensible start, not a directory of the web. */
export const BUILTIN_RULES: readonly Rule[] = [
  {
    domain: 'encyclopedia',
    hosts: ['wikipedia.org', 'wikibooks.org', 'wikiversity.org', 'wikisource.org', 'wikivoyage.org', 'wiktionary.org', 'britannica.com', 'scholarpedia.org', 'encyclopedia.com', 'newworldencyclopedia.org', 'plato.stanford.edu', 'iep.utm.edu', 'fandom.com'],
    tlds: [],
    host_prefixes: [],
    urls: [],
  },
  {
    domain: 'code',
    hosts: ['github.com', 'gitlab.com', 'bitbucket.org', 'codeberg.org', 'sourceforge.net', 'gist.github.com', 'pypi.org', 'npmjs.com', 'crates.io', 'pkg.go.dev', 'readthedocs.io', 'docs.rs', 'developer.mozilla.org'],
    tlds: [],
    host_prefixes: [],
    urls: [],
  },
  {
    domain: 'qa',
    hosts: ['stackoverflow.com', 'stackexchange.com', 'superuser.com', 'serverfault.com', 'askubuntu.com', 'mathoverflow.net', 'quora.com'],
    tlds: [],
    host_prefixes: [],
    urls: [],
  },
  {
    domain: 'academic',
    hosts: ['arxiv.org', 'biorxiv.org', 'medrxiv.org', 'chemrxiv.org', 'ssrn.com', 'osf.io', 'researchgate.net', 'semanticscholar.org', 'ncbi.nlm.nih.gov', 'europepmc.org', 'jstor.org', 'springer.com', 'sciencedirect.com', 'nature.com', 'plos.org', 'frontiersin.org', 'mdpi.com', 'acm.org', 'ieee.org', 'aclanthology.org', 'openreview.net', 'zenodo.org', 'hal.science'],
    tlds: ['edu', 'ac.uk', 'ac.jp', 'edu.au'],
    host_prefixes: ['papers.', 'journal.', 'journals.', 'scholar.'],
    urls: [],
  },
  {
    domain: 'forum',
    hosts: ['reddit.com', 'discourse.org', 'tripadvisor.com', 'city-data.com', 'hackernews.com', 'news.ycombinator.com'],
    tlds: [],
    host_prefixes: ['forum.', 'forums.', 'boards.', 'community.', 'discuss.'],
    urls: ['/forums?/', '/threads?/', '/viewtopic\\.php', '/showthread\\.php', '/t/[^/]+/\\d+'],
  },
  {
    domain: 'shop',
    hosts: ['amazon.com', 'amazon.co.uk', 'amazon.de', 'ebay.com', 'etsy.com', 'walmart.com', 'aliexpress.com', 'alibaba.com', 'bestbuy.com', 'target.com', 'shopify.com'],
    tlds: [],
    host_prefixes: ['shop.', 'store.'],
    urls: ['/products?/', '/cart\\b', '/checkout\\b'],
  },
  {
    domain: 'news',
    hosts: ['nytimes.com', 'washingtonpost.com', 'wsj.com', 'theguardian.com', 'bbc.co.uk', 'bbc.com', 'cnn.com', 'reuters.com', 'apnews.com', 'bloomberg.com', 'ft.com', 'economist.com', 'npr.org', 'aljazeera.com', 'foxnews.com', 'nbcnews.com', 'cbsnews.com', 'usatoday.com', 'latimes.com', 'theatlantic.com', 'lemonde.fr', 'spiegel.de', 'elpais.com', 'news.yahoo.com', 'news.google.com'],
    tlds: [],
    host_prefixes: ['news.'],
    urls: [],
  },
  {
    domain: 'government',
    hosts: ['europa.eu', 'un.org', 'who.int'],
    tlds: ['gov', 'mil', 'gov.uk', 'gouv.fr', 'gc.ca', 'gov.au', 'gov.in', 'go.jp', 'bund.de'],
    host_prefixes: [],
    urls: [],
  },
  {
    domain: 'blog',
    hosts: ['medium.com', 'substack.com', 'wordpress.com', 'blogspot.com', 'tumblr.com', 'livejournal.com'],
    tlds: [],
    host_prefixes: ['blog.', 'blogs.'],
    urls: ['/blog/'],
  },
];

export function loadRules(file: string): Rule[] {
  return parseOptions(z.array(ruleSchema), loadYaml(file) ?? [], file);
}

/**
 * The rules compiled into one matcher: URL -> a domain, or null. Host names are more
 * specific than URL patterns, so every rule's hosts are tried first, then top-level domains
 * and host prefixes, then URL patterns; within each, the first rule wins.
 */
export function ruleMatcher(rules: readonly Rule[]): (url: string) => string | null {
  const hosts = new Map<string, string>();
  for (const r of rules) {
    for (const h of r.hosts) {
      const name = h.toLowerCase().replace(/^\*?\./, '').replace(/^www\d*\./, '');
      if (!hosts.has(name)) hosts.set(name, r.domain);
    }
  }
  const tlds = rules.flatMap((r) => r.tlds.map((t) => ({ suffix: `.${t.toLowerCase().replace(/^\./, '')}`, domain: r.domain })));
  const prefixes = rules.flatMap((r) => r.host_prefixes.map((p) => ({ prefix: p.toLowerCase(), domain: r.domain })));
  const patterns = rules.flatMap((r) => r.urls.map((u) => ({ re: new RegExp(u, 'i'), domain: r.domain })));
  return (url) => {
    let host: string;
    try {
      host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
    } catch {
      return null;
    }
    const bare = host.replace(/^www\d*\./, '');
    // the host, then each parent domain: "en.m.wikipedia.org", "m.wikipedia.org", "wikipedia.org", "org"
    for (let name = bare; ; name = name.slice(name.indexOf('.') + 1)) {
      const found = hosts.get(name);
      if (found) return found;
      if (!name.includes('.')) break;
    }
    for (const t of tlds) if (host.endsWith(t.suffix)) return t.domain;
    for (const p of prefixes) if (bare.startsWith(p.prefix)) return p.domain;
    for (const p of patterns) if (p.re.test(url)) return p.domain;
    return null;
  };
}
