/** `refinery dedup ...`: the four steps, and the pipelines that run them all. */
import type { Command } from 'commander';
import { parseOptions } from '../../core/config.js';
import { runOptions, type Runner } from '../../core/executor.js';
import { bucketOptions, clusterOptions, dedupBuckets, dedupCluster, dedupFilter, dedupPipeline, dedupSignatures, pipelineOptions } from '../../dedup/index.js';
import { filterOptions } from '../../dedup/filter.js';
import { dedupLines, lineOptions } from '../../dedup/lines.js';
import { signatureOptions } from '../../dedup/signatures.js';
import { addSchemaFlags } from '../flags.js';

export function addDedupCommands(program: Command, runner: Runner): void {
  const dedup = program
    .command('dedup')
    .summary('exact and near-duplicate removal (MinHash-LSH), in steps that scale')
    .description(
      'Deduplication in four steps over a work directory: signatures (per input shard) -> buckets (per key kind and ' +
        'hash partition, within --memory) -> cluster (union-find, keep rule) -> filter (per input shard). "minhash" and ' +
        '"exact" run all four; "lines" removes frequent lines.',
    );
  const runFlags = (cmd: Command) => addSchemaFlags(cmd, runOptions, 'Run options:');

  for (const mode of ['minhash', 'exact'] as const) {
    const cmd = dedup
      .command(mode)
      .summary(mode === 'minhash' ? 'remove near duplicates: all four steps' : 'remove documents with the same URL or text: all four steps')
      .argument('<inputs...>', 'shard files or stage output directories')
      .requiredOption('-o, --output <dir>', 'output directory');
    const pick = addSchemaFlags(cmd, pipelineOptions, 'Dedup options:');
    const pickRun = runFlags(cmd);
    cmd.action(async (inputs: string[], values: Record<string, unknown>) => {
      const config = parseOptions(pipelineOptions, pick(values), `refinery dedup ${mode}`);
      const options = parseOptions(runOptions, pickRun(values), `refinery dedup ${mode}`);
      await dedupPipeline(mode, inputs, values.output as string, config, options, runner);
    });
  }

  const lines = dedup
    .command('lines')
    .summary('remove lines that occur in many documents (CCNet-style boilerplate removal)')
    .description(
      'Remove every line that occurs in at least --min-docs documents of the inputs (menus, cookie notices, footers), counted ' +
        'exactly (distinct line hashes per document, sorted per partition within --memory) or with a counting Bloom filter ' +
        '(--bloom: one pass, fixed memory; the false-positive rate bound is printed). A document left without text is excluded.',
    )
    .argument('<inputs...>', 'shard files or stage output directories')
    .requiredOption('-o, --output <dir>', 'output directory');
  const pickLines = addSchemaFlags(lines, lineOptions, 'Line dedup options:');
  const pickLinesRun = runFlags(lines);
  lines.action(async (inputs: string[], values: Record<string, unknown>) => {
    const config = parseOptions(lineOptions, pickLines(values), 'refinery dedup lines');
    await dedupLines(inputs, values.output as string, config, parseOptions(runOptions, pickLinesRun(values), 'refinery dedup lines'), runner);
  });

  const sig = dedup.command('signatures').summary('step 1: keys of every document, partitioned').argument('<inputs...>', 'shard files or stage output directories');
  const pickSig = addSchemaFlags(sig, signatureOptions, 'Signature options:');
  const pickSigRun = runFlags(sig);
  sig.action(async (inputs: string[], values: Record<string, unknown>) => {
    await dedupSignatures(inputs, parseOptions(signatureOptions, pickSig(values), 'refinery dedup signatures'), parseOptions(runOptions, pickSigRun(values), 'refinery dedup signatures'), runner);
  });

  const buckets = dedup.command('buckets').summary('step 2: documents sharing a key, per (kind, partition) job');
  const pickBuckets = addSchemaFlags(buckets, bucketOptions, 'Bucket options:');
  const pickBucketsRun = addSchemaFlags(buckets, runOptions.pick({ workers: true, rank: true, world_size: true, progress: true }), 'Run options:');
  buckets.action(async (values: Record<string, unknown>) => {
    const o = parseOptions(bucketOptions, pickBuckets(values), 'refinery dedup buckets');
    const run = parseOptions(runOptions.pick({ workers: true, rank: true, world_size: true, progress: true }), pickBucketsRun(values), 'refinery dedup buckets');
    await dedupBuckets(o.work, o.memory, run, runner);
  });

  const cluster = dedup.command('cluster').summary('step 3: clusters by union-find, and which document each keeps');
  const pickCluster = addSchemaFlags(cluster, clusterOptions, 'Cluster options:');
  cluster.action((values: Record<string, unknown>) => {
    const o = parseOptions(clusterOptions, pickCluster(values), 'refinery dedup cluster');
    dedupCluster(o.work, o.keep);
  });

  const filter = dedup
    .command('filter')
    .summary('step 4: exclude what the clusters do not keep')
    .argument('<inputs...>', 'the inputs the signatures were made from')
    .requiredOption('-o, --output <dir>', 'output directory');
  const pickFilter = addSchemaFlags(filter, filterOptions, 'Filter options:');
  const pickFilterRun = runFlags(filter);
  filter.action(async (inputs: string[], values: Record<string, unknown>) => {
    const o = parseOptions(filterOptions, pickFilter(values), 'refinery dedup filter');
    await dedupFilter(inputs, o.work, values.output as string, parseOptions(runOptions, pickFilterRun(values), 'refinery dedup filter'), runner);
  });
}
