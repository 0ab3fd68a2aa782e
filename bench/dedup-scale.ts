/**
 * Bench `dedup-scale`: all four MinHash-LSH steps through the real CLI over a synthetic
 * corpus of 1,000,000 documents (10% planted near copies), with a memory budget for the
 * bucket jobs, reporting time and peak RSS (whole process tree: pool workers included) per step,
 * and how many planted copies were found.
 *
 *   npm run bench -- dedup-scale [--docs 1000000] [--files 16] [--memory 1g] [--partitions 16]
 *                                [--words 200] [--workers 2] [--dir <scratch dir>]
 *
 * The corpus is written as JSONL and imported with `refinery import` first (timed apart).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticDoc } from '../datasets/synthetic-docs.js';
import { readTaskStats, sumStats } from '../pipeline/core/stats.js';
import { arg, measureCommand, type CommandResult } from './harness.js';
import { openShard } from '../pipeline/core/shard-reader.js';
import { listTasks } from '../pipeline/core/inputs.js';
import { jobResults } from '../pipeline/core/jobs.js';

const cli = fileURLToPath(new URL('../pipeline/cli/main.js', import.meta.url));
const SEED = 42;

export async function main(args: string[]): Promise<void> {
  const docs = Number(arg(args, 'docs', '1000000'));
  const files = Number(arg(args, 'files', '16'));
  const memory = arg(args, 'memory', '1g');
  const partitions = arg(args, 'partitions', '16');
  const words = Number(arg(args, 'words', '200'));
  const workers = arg(args, 'workers', '2');
  const dir = arg(args, 'dir', join(tmpdir(), 'refinery-bench-dedup-scale'));
  rmSync(dir, { recursive: true, force: true });
  const jsonl = join(dir, 'jsonl');
  mkdirSync(jsonl, { recursive: true });

  let t = performance.now();
  let bytes = 0;
  let planted = 0;
  const per = Math.ceil(docs / files);
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    for (let i = f * per; i < Math.min(docs, (f + 1) * per); i++) {
      const d = syntheticDoc(SEED, i, words);
      if (d.copyOf !== null) planted++;
      lines.push(JSON.stringify({ id: d.id, text: d.text }));
    }
    const text = `${lines.join('\n')}\n`;
    bytes += text.length;
    writeFileSync(join(jsonl, `part-${String(f).padStart(3, '0')}.jsonl`), text);
  }
  console.log(`dedup-scale: ${docs.toLocaleString('en')} documents (${planted.toLocaleString('en')} planted near copies), ${(bytes / 1e6).toFixed(0)} MB of JSONL in ${files} files, generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const run = async (name: string, ...cliArgs: string[]): Promise<CommandResult> => {
    const r = await measureCommand(name, process.execPath, [cli, ...cliArgs]);
    if (r.code !== 0) throw new Error(`${name}: refinery ${cliArgs.join(' ')} exited with ${r.code}`);
    return r;
  };
  const shards = join(dir, 'shards');
  const work = join(dir, 'work');
  const out = join(dir, 'unique');
  const progress = ['--progress', 'log'];
  t = performance.now();
  const setup = await run('import (setup)', 'import', jsonl, '-o', shards, '--workers', workers, ...progress);
  // The plan's four phases one at a time (--phase), to time each.
  const dedup = ['dedup', 'minhash', shards, '-o', out, '--work', work, '--partitions', partitions, '--memory', memory];
  const steps = [
    await run('signatures', ...dedup, '--phase', 'signatures', '--workers', workers, ...progress),
    await run(`buckets (--memory ${memory})`, ...dedup, '--phase', 'buckets', '--workers', '1', '--progress', 'off'),
    await run('cluster', ...dedup, '--phase', 'cluster'),
    await run('filter', ...dedup, '--phase', 'filter', '--workers', workers, ...progress),
  ];

  const totals = sumStats(readTaskStats(out));
  const spilled = [...jobResults(join(work, 'buckets')).values()].reduce((n, r) => n + Number(r.spilled_runs ?? 0), 0);
  let copiesFound = 0;
  let originalsRemoved = 0;
  for (const task of listTasks({ kind: 'shards' }, [join(out, '_excluded')])) {
    const shard = await openShard(task.path);
    for await (const doc of shard.docs()) {
      const i = Number(doc.id.slice(4));
      if (syntheticDoc(SEED, i, 1).copyOf !== null) copiesFound++;
      else originalsRemoved++;
    }
  }

  const rows = [['step', 'seconds', 'docs/s', 'peak RSS MB (tree)', 'peak RSS MB (one process)']];
  for (const r of [setup, ...steps]) rows.push([r.name, r.seconds.toFixed(1), Math.round(docs / r.seconds).toLocaleString('en'), String(r.peakTreeRssMB), String(r.peakProcessRssMB)]);
  const dedupSeconds = steps.reduce((s, r) => s + r.seconds, 0);
  rows.push(['all four dedup steps', dedupSeconds.toFixed(1), Math.round(docs / dedupSeconds).toLocaleString('en'), String(Math.max(...steps.map((r) => r.peakTreeRssMB))), String(Math.max(...steps.map((r) => r.peakProcessRssMB)))]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  console.log(
    `kept ${totals.docs_kept.toLocaleString('en')}, excluded ${totals.docs_excluded.toLocaleString('en')}: ` +
      `${copiesFound.toLocaleString('en')} of ${planted.toLocaleString('en')} planted copies found (${((100 * copiesFound) / planted).toFixed(2)}%), ` +
      `${originalsRemoved} other documents removed; bucket jobs spilled ${spilled} sorted runs to disk; peak RSS target < 1536 MB: ${Math.max(...steps.map((r) => r.peakTreeRssMB)) < 1536 ? 'met' : 'MISSED'}`,
  );
  if (!args.includes('--keep-files')) rmSync(dir, { recursive: true, force: true });
}
