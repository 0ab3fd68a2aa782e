/**
 * Step 4 of dedup, one task per input shard (the same tasks as step 1): documents a cluster
 * does not keep are excluded with the id of the one it keeps; documents in a cluster get
 * `dedup_cluster` (the keeper's id, on kept and excluded documents alike) and
 * `dedup_cluster_size`.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { UserError } from '../core/errors.js';
import { defineStage, drop, type Step } from '../core/stage.js';
import type { ClusterAssignment } from './cluster.js';
import { paths } from './work.js';

/** The config also names the clusters it applies, so a rerun after new clusters is not skipped as done. */
const filterStageOptions = z
  .object({
    work: z.string().min(1).describe('the dedup work directory'),
    mode: z.enum(['minhash', 'exact']),
    clusters: z.string().describe('fingerprint of the clusters applied'),
  })
  .strict();

export const DEDUP_COLUMNS = [
  { name: 'dedup_cluster', type: 'string' as const },
  { name: 'dedup_cluster_size', type: 'int32' as const },
];

export const filterStage = defineStage({
  name: 'dedup',
  internal: true,
  summary: 'dedup step 4: drop what the clusters do not keep',
  options: filterStageOptions,
  steps(config, _columns, task): Step[] {
    let assignment: ClusterAssignment;
    try {
      assignment = JSON.parse(readFileSync(paths.cluster(config.work, task.index), 'utf8')) as ClusterAssignment;
    } catch {
      throw new UserError(`${paths.cluster(config.work, task.index)}: missing (run the cluster phase first)`);
    }
    const byRow = new Map(assignment.rows.map((row, i) => [row, i]));
    const reason = config.mode === 'exact' ? 'duplicate' : 'near-duplicate';
    let row = 0;
    return [
      {
        name: config.mode === 'exact' ? 'exact-dedup' : 'minhash-dedup',
        kind: 'filter',
        adds: DEDUP_COLUMNS,
        apply: (doc) => {
          const i = byRow.get(row++);
          if (i === undefined) {
            doc.dedup_cluster = null;
            doc.dedup_cluster_size = 1;
            return undefined;
          }
          doc.dedup_cluster = assignment.keeper[i];
          doc.dedup_cluster_size = assignment.size[i];
          return assignment.kept[i] ? undefined : drop(reason, `of ${assignment.keeper[i]}`);
        },
      },
    ];
  },
});
