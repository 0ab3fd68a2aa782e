/**
 * Bench `mix`: `refinery domains` (URL rules) then `refinery mix` (counting pass, plan,
 * sampling pass with repeats) through the real CLI over about 1 GB of shards, reporting
 * documents/s, MB/s and peak RSS (whole process tree) per command.
 *
 *   npm run bench -- mix [--docs 700000] [--words 300] [--files 16] [--workers 2] [--dir <scratch>]
 *
 * Documents: synthetic text (datasets/synthetic-docs) under URLs of eight kinds of site:
 * six the built-in rules know (encyclopedia, code, news, forum, shop, academic) in unequal
 * numbers, and two they do not (labelled "other").
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticDoc } from '../datasets/synthetic-docs.js';
import { CORE_COLUMNS, META, SCHEMA_VERSION } from '../pipeline/core/schema.js';
import { ShardWriter } from '../pipeline/core/shard-writer.js';
import { arg, measureCommand, type CommandResult } from './harness.js';

const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
/** URL of document i: site kinds in shares 30/20/15/10/8/7/6/4 %. */
const SITES: [number, (i: number) => string][] = [
  [30, (i) => `https://en.wikipedia.org/wiki/Article_${i}`],
  [20, (i) => `https://www.nytimes.com/2024/05/${i}.html`],
  [15, (i) => `https://github.com/owner${i % 977}/repo/blob/main/README-${i}.md`],
  [10, (i) => `https://forum.example-town.org/t/topic-${i}/${i}`],
  [8, (i) => `https://shop.example-store.com/product/${i}`],
  [7, (i) => `https://arxiv.org/abs/2405.${String(i).padStart(5, '0')}`],
  [6, (i) => `https://www.site-${i % 5003}.com/page/${i}`],
  [4, (i) => `https://blog-${i % 811}.example.net/${i}`],
];
function urlOf(i: number): string {
  let r = (Math.imul(i, 0x9e3779b1) >>> 0) % 100;
  for (const [share, url] of SITES) {
    if (r < share) return url(i);
    r -= share;
  }
  return SITES[0][1](i);
}

export async function main(args: string[]): Promise<void> {
  const docs = Number(arg(args, 'docs', '700000'));
  const words = Number(arg(args, 'words', '300'));
  const files = Number(arg(args, 'files', '16'));
  const workers = arg(args, 'workers', '2');
  const dir = arg(args, 'dir', join(tmpdir(), 'refinery-bench-mix'));
  rmSync(dir, { recursive: true, force: true });
  const shards = join(dir, 'shards');
  mkdirSync(shards, { recursive: true });

  let t = performance.now();
  let bytes = 0;
  const per = Math.ceil(docs / files);
  for (let f = 0; f < files; f++) {
    const w = new ShardWriter({ dir: shards, base: `part-${String(f).padStart(5, '0')}`, columns: CORE_COLUMNS, metadata: { [META.schemaVersion]: String(SCHEMA_VERSION), [META.stage]: 'bench' } });
    for (let i = f * per; i < Math.min(docs, (f + 1) * per); i++) {
      const d = syntheticDoc(7, i, words, 1_000_000);
      bytes += Buffer.byteLength(d.text);
      w.write({ id: d.id, url: urlOf(i), text: d.text });
    }
    w.publish();
  }
  console.log(`mix: ${docs.toLocaleString('en')} documents, ${(bytes / 1e9).toFixed(2)} GB of text in ${files} shards, written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const run = async (name: string, ...cliArgs: string[]): Promise<CommandResult> => {
    const r = await measureCommand(name, process.execPath, [cli, ...cliArgs, '--workers', workers, '--progress', 'log']);
    if (r.code !== 0) throw new Error(`${name}: refinery ${cliArgs.join(' ')} exited with ${r.code}`);
    return r;
  };
  t = performance.now();
  const steps = [
    await run('domains (URL rules)', 'domains', shards, '-o', join(dir, 'labelled')),
    await run('mix (T = 2, max 2 epochs: count, plan, sample)', 'mix', join(dir, 'labelled'), '-o', join(dir, 'mix'), '--temperature', '2', '--max-epochs', '2'),
  ];
  const rows = [['command', 'seconds', 'docs/s', 'MB/s', 'peak RSS MB (tree)', 'peak RSS MB (one process)']];
  const line = (name: string, s: number, tree: number, one: number) => [name, s.toFixed(1), Math.round(docs / s).toLocaleString('en'), (bytes / 1e6 / s).toFixed(0), String(tree), String(one)];
  for (const r of steps) rows.push(line(r.name, r.seconds, r.peakTreeRssMB, r.peakProcessRssMB));
  const total = steps.reduce((s, r) => s + r.seconds, 0);
  rows.push(line('domains + mix', total, Math.max(...steps.map((r) => r.peakTreeRssMB)), Math.max(...steps.map((r) => r.peakProcessRssMB))));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  const report = (JSON.parse(readFileSync(join(dir, 'mix', '_mix.json'), 'utf8')) as { report: { max_share_error: number; size_after: number } }).report;
  console.log(`mix: ${(report.size_after / 1e6).toFixed(0)} MB after mixing; largest share error ${(100 * report.max_share_error).toFixed(3)} points`);
  if (!args.includes('--keep-files')) rmSync(dir, { recursive: true, force: true });
}
