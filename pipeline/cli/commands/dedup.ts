/** `refinery dedup minhash|exact|lines`: the dedup operations, each a plan of phases. */
import type { Command } from 'commander';
import type { Runner } from '../../core/executor.js';
import { dedupOperation } from '../../dedup/index.js';
import { lineDedupOperation } from '../../dedup/lines.js';
import { addOperationCommand } from './stages.js';

export function addDedupCommands(program: Command, runner: Runner): void {
  const dedup = program
    .command('dedup')
    .summary('exact and near-duplicate removal (MinHash-LSH), and frequent lines, in phases that scale')
    .description(
      'Deduplication as plans of phases over a work directory. minhash and exact: signatures (map, per input shard) -> buckets ' +
        '(jobs, per key kind and hash partition, within --memory) -> cluster (reduce: union-find, keep rule) -> filter (map). ' +
        'lines: keys -> count -> filter. --list-phases shows them; --phase ID runs one (on every rank for maps and jobs).',
    );
  for (const mode of ['minhash', 'exact'] as const) addOperationCommand(dedup, dedupOperation(mode), runner, { name: mode });
  addOperationCommand(dedup, lineDedupOperation, runner, { name: 'lines' });
}
