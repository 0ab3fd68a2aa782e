/** `refinery inspect` (what shards hold) and `refinery stats` (the funnel across stage outputs). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { parseOptions } from '../../core/config.js';
import { excludedDirToRead } from '../../core/layout.js';
import { RunError, UserError } from '../../core/errors.js';
import { formatClusterMembers, formatClusters, formatDoc, formatReport } from '../../inspect/format.js';
import { funnelOf, funnelTable } from '../../inspect/funnel.js';
import { funnelSvg } from '../../inspect/funnel-svg.js';
import { clusterMembers, docById, headDocs, inspectShards, largestClusters, shardPath } from '../../inspect/inspect.js';
import { addSchemaFlags } from '../flags.js';

const inspectOptions = z
  .object({
    head: z.number().int().min(0).optional().describe('show the first n documents (text truncated)'),
    id: z.string().optional().describe('show one document in full').meta({ value: 'id' }),
    excluded: z.boolean().default(false).describe('look at the excluded documents (with excluded_by and reason) instead of the kept ones'),
    clusters: z.coerce.number().int().min(1).optional().describe('list the n largest dedup clusters (default 10): the id each keeps, its size, URL and text'),
    cluster: z.string().optional().describe('list the members of a dedup cluster (its dedup_cluster value: the id of the document it keeps), kept and excluded').meta({ value: 'id' }),
    truncate: z.number().int().min(0).default(300).describe('characters of text to show with --head').meta({ value: 'chars' }),
  })
  .strict();

export function addInspectCommands(program: Command): void {
  const inspect = program
    .command('inspect')
    .summary('schema, row count, column summaries and documents of shards')
    .description('Show the schema, row count, bytes and a summary of every column of a shard file or stage output directory.')
    .argument('<path>', 'a shard file or a stage output directory');
  // --clusters takes an optional value, which no schema flag does.
  const pick = addSchemaFlags(inspect, inspectOptions.omit({ clusters: true }), 'Options:');
  inspect.option('--clusters [n]', inspectOptions.shape.clusters.description).option('--json', 'print JSON');
  inspect.action(async (path: string, values: Record<string, unknown>) => {
    const o = parseOptions(inspectOptions, { ...pick(values), clusters: values.clusters === true ? 10 : values.clusters }, 'refinery inspect');
    const show = <T>(value: T, text: (v: T) => string) => console.log(values.json ? JSON.stringify(value, null, 1) : text(value));
    if (o.clusters !== undefined) return show(await largestClusters(path, o.clusters), (keepers) => formatClusters(path, keepers));
    if (o.cluster !== undefined) {
      const members = await clusterMembers(path, o.cluster);
      if (members.length === 0) throw new UserError(`${path}: no document has dedup_cluster "${o.cluster}" (is this a dedup output?)`);
      return show(members, (m) => formatClusterMembers(o.cluster ?? '', m));
    }
    const target = shardPath(path, o.excluded);
    if (o.id !== undefined) {
      const kept = await docById(target, o.id);
      // An id not among the kept documents may be among the excluded ones.
      const excluded = !kept && !o.excluded && excludedDirToRead(path) ? await docById(shardPath(path, true), o.id) : null;
      const doc = kept ?? excluded;
      if (!doc) throw new UserError(`${path}: no document with id "${o.id}"`);
      return show(doc, (d) => `${excluded ? '(found among the excluded documents)\n' : ''}${formatDoc(d, null)}`);
    }
    if (o.head !== undefined) {
      const docs = await headDocs(target, o.head);
      if (values.json) console.log(JSON.stringify(docs, null, 1));
      else for (const doc of docs) console.log(formatDoc(doc, o.truncate));
      return;
    }
    show(await inspectShards(target), formatReport);
  });

  program
    .command('stats')
    .summary('the funnel across stage outputs: documents and bytes kept and excluded per filter')
    .description('The funnel across stage outputs, in the order given: documents and bytes in, kept, and excluded per filter.')
    .argument('<dirs...>', 'stage output directories, in pipeline order')
    .option('--json', 'print JSON')
    .option('--svg <file>', 'also write the funnel as an SVG chart')
    .action(async (dirs: string[], o: { json?: boolean; svg?: string }) => {
      const funnel = funnelOf(dirs);
      if (o.svg) {
        mkdirSync(dirname(o.svg), { recursive: true });
        writeFileSync(o.svg, funnelSvg(funnel));
      }
      if (o.json) console.log(JSON.stringify(funnel, null, 1));
      else console.log(funnelTable(funnel));
      if (funnel.some((f) => f.accounting !== 'ok')) throw new RunError('accounting invariant broken (see above)');
    });
}
