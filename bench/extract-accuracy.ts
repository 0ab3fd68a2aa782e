/**
 * Bench `extract-accuracy`: every engine against gold in one run and one table — our two
 * engines, bare Readability (the benchmark's own readability.js setup: textContent, no
 * fallback, no pruning), and resiliparse and readability-lxml where Python has them.
 *
 *   npm run bench -- extract-accuracy [--sample-pages 2000]
 *
 * - Article Extraction Benchmark (91 pages): shingle precision / recall / F1, as its evaluate.py.
 * - Trafilatura's evaluation set (495 pages, mostly German): share of pages with every "with"
 *   snippet and no "without" snippet.
 * - The sample web (seed 1): F1 of words and of 4-word shingles against each page's gold text.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { openShard } from '../pipeline/core/shard-reader.js';
import { extractWith } from '../pipeline/extract/page.js';
import { ENGINES } from '../pipeline/extract/pool.js';
import { aebMetrics, shingleMatch, snippetsRight, type TpFpFn } from '../pipeline/extract/score.js';
import type { PageTruth } from '../datasets/sample-web/index.js';
import { aebPages, trafilaturaPages } from './extraction-data.js';
import { arg } from './harness.js';
import { REFERENCE_ENGINES, referenceExtract, type ReferenceEngine } from './reference-extractors.js';

export function bareReadability(html: string): string {
  try {
    const { document } = parseHTML(html);
    return new Readability(document as never).parse()?.textContent ?? '';
  } catch {
    return '';
  }
}

const f = (x: number) => x.toFixed(3);

interface GoldPage {
  html: string;
  gold: string;
}

/** The sample web's HTML pages with their gold text: built, ingested by the real CLI, read back. */
async function sampleWebPages(pages: number): Promise<GoldPage[]> {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-bench-extract-'));
  try {
    const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
    for (const args of [['sample-web', '-o', join(dir, 'web'), '--pages', String(pages), '--seed', '1'], ['ingest', join(dir, 'web'), '-o', join(dir, 'raw'), '--progress', 'off']]) {
      const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`refinery ${args[0]}: ${r.stderr}`);
    }
    const truth = new Map<string, PageTruth>();
    for (const line of readFileSync(join(dir, 'web', 'pages.jsonl'), 'utf8').trim().split('\n')) {
      const p = JSON.parse(line) as PageTruth;
      truth.set(p.record_id, p);
    }
    const out: GoldPage[] = [];
    for (const name of readdirSync(join(dir, 'raw')).filter((n) => n.startsWith('part-')).sort()) {
      for await (const doc of (await openShard(join(dir, 'raw', name))).docs()) {
        const page = truth.get(doc.id as string);
        if (page?.text && typeof doc.html === 'string') out.push({ html: doc.html, gold: page.text.split('\n\n').slice(1).join('\n') });
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const aeb = aebPages();
  const traf = trafilaturaPages();
  const web = await sampleWebPages(Number(arg(args, 'sample-pages', '2000')));
  console.log(`pages: AEB ${aeb.length}, trafilatura eval ${traf.length}, sample web ${web.length} (seed 1)`);

  type Run = (pages: readonly string[], urls: readonly (string | null)[]) => string[] | { missing: string };
  const engines: [string, Run][] = [
    ...ENGINES.map((e): [string, Run] => [`refinery --extractor ${e}`, (pages, urls) => pages.map((html, i) => extractWith(e, html, urls[i]).text)]),
    ['bare Readability.js (linkedom)', (pages) => pages.map(bareReadability)],
    ...(Object.keys(REFERENCE_ENGINES) as ReferenceEngine[]).map((e): [string, Run] => [e, (pages) => {
      const r = referenceExtract(e, pages);
      return 'missing' in r ? r : r.texts;
    }]),
  ];
  const rows = [['engine', 'AEB precision', 'recall', 'F1', 'trafilatura right', 'sample web word F1', 'shingle F1']];
  for (const [name, run] of engines) {
    const a = run(aeb.map((p) => p.html), aeb.map((p) => p.url));
    if (!Array.isArray(a)) {
      console.log(`  (${name}: ${a.missing})`);
      continue;
    }
    const t = run(traf.map((p) => p.html), traf.map((p) => p.url)) as string[];
    const w = run(web.map((p) => p.html), web.map(() => null)) as string[];
    const m = aebMetrics(aeb.map((p, i) => shingleMatch(p.truth, a[i])));
    const right = traf.filter((p, i) => snippetsRight(t[i], p.with, p.without)).length;
    const words: TpFpFn[] = web.map((p, i) => shingleMatch(p.gold, w[i], 1));
    const shingles: TpFpFn[] = web.map((p, i) => shingleMatch(p.gold, w[i]));
    rows.push([name, f(m.precision), f(m.recall), f(m.f1), `${f(right / traf.length)} (${right})`, f(aebMetrics(words).f1), f(aebMetrics(shingles).f1)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  console.log('published AEB F1 on these pages: readability.js 0.950, trafilatura 0.963, Rust trafilatura 0.969, best commercial 0.975, readability-lxml 0.918');
}
