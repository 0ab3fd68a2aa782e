/**
 * `refinery extract`: raw HTML shards -> text shards. Main text by Readability's method (the
 * fast engine on a typed-array tree, or Readability.js itself on linkedom) plus a pruning pass
 * for what Readability keeps but readers skip, a fallback when there is no article, language
 * identification (fastText lid.176), and a URL blocklist.
 * Every page ends with text or with a reason: too big, too slow, too little text, language.
 */
import * as z from 'zod';
import { byteSize } from '../core/config.js';
import { defineStage, drop, type Step } from '../core/stage.js';
import { UrlBlocklist } from '../text/url-blocklist.js';
import { identifyLanguage } from './language.js';
import { ENGINES, Extractor } from './pool.js';
import { DEFAULT_EXTRACT } from './readable.js';

export const extractOptions = z
  .object({
    extractor: z
      .enum(ENGINES)
      .default('fast')
      .describe('extraction engine: fast (one pass into a typed-array tree, Readability\'s scoring; 16x faster here) or readability (Readability.js on linkedom)'),
    min_text_chars: z.number().int().min(0).default(200).describe('exclude pages whose main text is shorter (reason too-little-text)'),
    max_html_size: byteSize().prefault('5MiB').describe('exclude pages with more HTML than this, unread (reason html-too-large)'),
    time_budget: z.number().positive().default(10).describe('seconds one page may take; a slower page is stopped and excluded (extraction-timeout)'),
    max_elements: z.number().int().min(1).default(DEFAULT_EXTRACT.maxElements).describe('pages with more elements skip article finding and use the fallback'),
    max_depth: z.number().int().min(1).default(DEFAULT_EXTRACT.maxDepth).describe('pages nested deeper skip article finding (Readability\'s time grows with depth squared) and use the fallback'),
    languages: z
      .array(z.string().regex(/^[a-zA-Z]{2,3}(:(0(\.\d+)?|1(\.0+)?))?$/, 'expected a language code, or code:score (pt:0.8)'))
      .optional()
      .describe('keep only these languages (ISO 639-1 codes as fastText lid.176 gives them, comma-separated); code:score gives a language its own confidence floor (pt:0.8,es:0.84,de)'),
    min_lang_score: z.number().min(0).max(1).default(0).describe('exclude documents whose language score is lower (e.g. 0.65); a language listed as code:score in --languages uses its own'),
    blocklist_domains: z.string().optional().describe('file of blocked domains, one per line (subdomains are blocked too)'),
    blocklist_urls: z.string().optional().describe('file of blocked URL substrings, one per line'),
    keep_html: z.boolean().default(false).describe('keep the html column (dropped by default: the text is what later stages read)'),
  })
  .strict();
type ExtractConfig = z.infer<typeof extractOptions>;

export const EXTRACT_COLUMNS = [
  { name: 'title', type: 'string' },
  { name: 'extractor', type: 'string' },
] as const;

function steps(config: ExtractConfig): Step[] {
  const out: Step[] = [];
  const blocklist = new UrlBlocklist(config.blocklist_domains, config.blocklist_urls);
  if (!blocklist.empty) {
    out.push({
      name: 'url-blocklist',
      kind: 'filter',
      apply: (doc) => {
        const hit = typeof doc.url === 'string' ? blocklist.match(doc.url) : null;
        return hit ? drop('url-blocklist', hit) : undefined;
      },
    });
  }
  out.push({
    name: 'html-size',
    kind: 'filter',
    apply: (doc) => {
      const size = typeof doc.html === 'string' ? doc.html.length : 0;
      return size > config.max_html_size ? drop('html-too-large', `${size} characters of HTML > ${config.max_html_size}`) : undefined;
    },
  });

  const extractor = new Extractor({ ...DEFAULT_EXTRACT, maxElements: config.max_elements, maxDepth: config.max_depth }, config.extractor);
  out.push({
    name: 'extract',
    kind: 'transform',
    adds: [...EXTRACT_COLUMNS],
    removes: config.keep_html ? [] : ['html'],
    apply: async (doc) => {
      if (typeof doc.html !== 'string') {
        // Text from the source (a WET conversion record): nothing to extract.
        doc.extractor = 'source';
        if (!config.keep_html) delete doc.html;
        return undefined;
      }
      const outcome = await extractor.extract(doc.html, typeof doc.url === 'string' ? doc.url : null, config.time_budget * 1000);
      if (!config.keep_html) delete doc.html;
      if (!outcome.ok) return drop(outcome.reason, outcome.detail);
      doc.title = outcome.result.title;
      doc.text = outcome.result.text;
      doc.extractor = outcome.result.extractor;
      return undefined;
    },
  });
  out.push({
    name: 'min-text',
    kind: 'filter',
    apply: (doc) => {
      const length = typeof doc.text === 'string' ? doc.text.length : 0;
      return length < config.min_text_chars ? drop('too-little-text', `${length} < ${config.min_text_chars} characters`) : undefined;
    },
  });
  out.push({
    name: 'language-id',
    kind: 'annotate',
    apply: async (doc) => {
      const found = await identifyLanguage(typeof doc.text === 'string' ? doc.text : '');
      doc.lang = found?.lang ?? null;
      doc.lang_score = found?.score ?? null;
    },
  });
  if (config.languages || config.min_lang_score > 0) {
    // code -> its confidence floor (FineWeb-2 sets one per language: scores differ by language)
    const wanted = config.languages
      ? new Map(config.languages.map((entry) => {
          const [code, score] = entry.toLowerCase().split(':');
          return [code, score === undefined ? config.min_lang_score : Number(score)] as const;
        }))
      : null;
    out.push({
      name: 'language',
      kind: 'filter',
      apply: (doc) => {
        const lang = typeof doc.lang === 'string' ? doc.lang : 'unknown';
        const score = typeof doc.lang_score === 'number' ? doc.lang_score : 0;
        if (wanted && !wanted.has(lang)) return drop('language', `${lang} (${score}) not in ${[...wanted.keys()].join(',')}`);
        const floor = wanted?.get(lang) ?? config.min_lang_score;
        if (score < floor) return drop('language-score', `${lang} ${score} < ${floor}`);
        return undefined;
      },
    });
  }
  return out;
}

export const extractStage = defineStage({
  name: 'extract',
  summary: 'raw HTML shards -> text shards (main text, title, language)',
  description:
    'Main text by Readability\'s method (--extractor fast: one pass into a typed-array tree; readability: Readability.js on linkedom), then a pruning pass for what Readability keeps but readers skip (captions, ' +
    'bylines, share and related boxes, link lists); when there is no article, the page text that ' +
    'drops script, style, nav, header, footer and forms. Blocks become lines. Adds title and extractor; sets text, lang ' +
    'and lang_score (fastText lid.176); drops html unless --keep-html. Pages over --max-html-size or --time-budget, with ' +
    'too little text, a blocked URL, or an unwanted language are excluded with their reason.',
  options: extractOptions,
  steps: (config) => steps(config),
});
