/** The extraction benchmarks in ../shared/data, loaded for the accuracy and speed benches. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeBody, detectCharset } from '../pipeline/warc/charset.js';

export function sharedDataDir(): string {
  const dir = process.env.REFINERY_SHARED_DATA ?? resolve(process.cwd(), '..', 'shared', 'data');
  if (!existsSync(dir)) throw new Error(`this benchmark needs ../shared/data (or REFINERY_SHARED_DATA): ${dir} not found`);
  return dir;
}

export interface AebPage {
  id: string;
  url: string;
  html: string;
  truth: string;
}

export function aebPages(root = sharedDataDir()): AebPage[] {
  const dir = join(root, 'extraction-scrapinghub-aeb');
  const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as Record<string, { articleBody: string; url: string }>;
  return Object.entries(truth)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, t]) => ({ id, url: t.url, truth: t.articleBody, html: gunzipSync(readFileSync(join(dir, 'html', `${id}.html.gz`))).toString('utf8') }));
}

export interface SnippetPage {
  url: string;
  html: string;
  with: string[];
  without: string[];
}

export function trafilaturaPages(root = sharedDataDir()): SnippetPage[] {
  const dir = join(root, 'extraction-trafilatura-eval');
  const data = JSON.parse(readFileSync(join(dir, 'evaldata.json'), 'utf8')) as Record<string, { file: string; with?: string[]; without?: string[] }>;
  return Object.entries(data)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([url, e]) => {
      const bytes = gunzipSync(readFileSync(join(dir, 'html', `${e.file}.gz`)));
      return { url, html: decodeBody(bytes, detectCharset(bytes, null).charset), with: e.with ?? [], without: e.without ?? [] };
    });
}
