/**
 * Bench `cc-recipe`: the Common Crawl recipe (configs/commoncrawl.yaml's stages) end to end over
 * the real crawl files in ../shared/data, once per extraction engine in the same run, through
 * the real CLI. Reports each stage's task seconds and pages/s per core, the whole recipe's
 * pages/s per core, and what that makes the cost of one ~1 GB CC WARC file on this machine.
 *
 *   npm run bench -- cc-recipe [--copies 10]
 *
 * The six crawl files hold 142 HTML pages; each file's records are repeated `--copies` and
 * twice as many times inside it, and the difference between the two runs gives the marginal
 * cost per page (what a ~1 GB file costs, start-up excluded). The copies are exact
 * duplicates: dedup removes them, so the stages after it see the first copy's pages only
 * (they are a few percent of the cost either way).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Manifest } from '../pipeline/core/executor.js';
import { ENGINES, type Engine } from '../pipeline/extract/pool.js';
import { sharedDataDir } from './extraction-data.js';
import { arg } from './harness.js';

const CRAWL_FILES = [
  'cc-warc-resiliparse/CC-MAIN-2020-34-excerpt.part1.warc.gz',
  'cc-arc-2008-copycat/1213893279526_0.part1.arc',
  'warc-ia-2008-aut/IAH-20080430204825-00000-blackbook.part1.warc.gz',
  'warc-heritrix-ukwa/BL-20140325122341434-00000-32090_opera_8443.warc.gz',
  'warc-heritrix-ukwa/flashfrozen-jwat-recompressed.warc.gz',
  'warc-wget-dolma/sample-0000.warc.gz',
];
/** HTML responses in a ~1 GB Common Crawl WARC file (about 40,000). */
const PAGES_PER_CC_FILE = 40_000;

interface StageCost {
  stage: string;
  docsIn: number;
  docsOut: number;
  seconds: number;
}

/** Task seconds and documents of a stage: its output's manifest plus those of its work directory (dedup's passes). */
function stageCost(stage: string, out: string): StageCost {
  const manifests: Manifest[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === '_manifest.json') manifests.push(JSON.parse(readFileSync(path, 'utf8')) as Manifest);
      else if (statSync(path).isDirectory() && !name.startsWith('_')) walk(path);
    }
  };
  walk(out);
  walk(`${out}-work`);
  const own = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8')) as Manifest;
  return { stage, docsIn: own.totals.docs_in, docsOut: own.totals.docs_kept, seconds: manifests.reduce((s, m) => s + m.totals.seconds, 0) };
}

function runRecipe(engine: Engine, input: string, dir: string): { costs: StageCost[]; wall: number } {
  const recipe = parse(readFileSync(fileURLToPath(new URL('../../configs/commoncrawl.yaml', import.meta.url)), 'utf8')) as { stages: Record<string, unknown>[] } & Record<string, unknown>;
  const stages = recipe.stages.map((s): Record<string, unknown> => {
    const out = join(dir, basename(String(s.output)));
    if (s.stage === 'ingest') {
      const { cc: _cc, files: _files, ...rest } = s;
      return { ...rest, input, output: out };
    }
    return s.stage === 'extract' ? { ...s, extractor: engine, output: out } : { ...s, output: out };
  });
  const file = join(dir, 'recipe.yaml');
  writeFileSync(file, stringify({ ...recipe, progress: 'off', stages }));
  const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, 'run', file], { encoding: 'utf8' });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`refinery run (${engine}): ${r.stderr}`);
  return { costs: stages.map((s) => stageCost(String(s.stage), String(s.output))), wall };
}

const fmt = (x: number, digits = 1) => x.toFixed(digits);

/** The crawl files with each file's records repeated `copies` times inside it. */
function crawlInput(root: string, dir: string, copies: number): string {
  const input = join(dir, `crawl-x${copies}`);
  mkdirSync(input);
  // Copies go into the same file (gzip members and ARC/WARC records concatenate), so a task is
  // one source file as in a real run.
  for (const f of CRAWL_FILES) writeFileSync(join(input, basename(f)), Buffer.concat(Array.from({ length: copies }, () => readFileSync(join(root, f)))));
  return input;
}

export async function main(args: string[]): Promise<void> {
  const copies = Number(arg(args, 'copies', '10'));
  const root = sharedDataDir();
  const dir = mkdtempSync(join(tmpdir(), 'refinery-bench-cc-'));
  try {
    console.log(`cc-recipe: configs/commoncrawl.yaml over ${CRAWL_FILES.length} real crawl files from ../shared/data, each ${copies}x and ${2 * copies}x`);
    const small = crawlInput(root, dir, copies);
    const large = crawlInput(root, dir, 2 * copies);
    const runs = ENGINES.map((engine) => {
      const run = (input: string, name: string) => {
        const out = join(dir, `${engine}-${name}`);
        mkdirSync(out);
        return runRecipe(engine, input, out);
      };
      return { engine, a: run(small, 'a'), b: run(large, 'b') };
    });
    const rows = [['stage', ...runs.flatMap((r) => ['docs in', `${r.engine}: task s`, 'pages/s/core', 'marginal'])]];
    for (let i = 0; i < runs[0].b.costs.length; i++) {
      rows.push([
        runs[0].b.costs[i].stage,
        ...runs.flatMap(({ a, b }) => {
          const [x, y] = [a.costs[i], b.costs[i]];
          // The marginal rate: extra pages over extra seconds between the two sizes (start-up cancels out).
          const marginal = y.seconds > x.seconds && y.docsIn > x.docsIn ? fmt((y.docsIn - x.docsIn) / (y.seconds - x.seconds), 0) : '-';
          return [String(y.docsIn), fmt(y.seconds, 2), fmt(y.docsIn / y.seconds, 0), marginal];
        }),
      ]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    const seconds = (run: { costs: StageCost[] }) => run.costs.reduce((sum, c) => sum + c.seconds, 0);
    const rate = new Map<Engine, number>();
    for (const { engine, a, b } of runs) {
      const pages = b.costs[0].docsOut; // the HTML pages the recipe starts from
      const extra = pages - a.costs[0].docsOut;
      const perPage = (seconds(b) - seconds(a)) / extra; // whole recipe, start-up excluded
      rate.set(engine, 1 / perPage);
      console.log(
        `--extractor ${engine}: ${pages} pages in ${fmt(seconds(b))} task seconds (${fmt(pages / seconds(b), 0)} pages/s/core with start-up; wall ${fmt(b.wall)} s on 2 cores); ` +
          `marginal ${fmt(1 / perPage, 0)} pages/s/core end to end: a ${PAGES_PER_CC_FILE.toLocaleString('en')}-page CC file ≈ ${fmt((PAGES_PER_CC_FILE * perPage) / 60)} core-minutes, ${fmt((PAGES_PER_CC_FILE * perPage) / 120)} minutes on 2 cores`,
      );
    }
    console.log(`fast / readability, pages/s/core end to end (marginal): ${fmt((rate.get('fast') ?? 0) / (rate.get('readability') ?? 1), 2)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
