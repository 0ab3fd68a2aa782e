/**
 * Step 2 of dedup: one job per (key kind, partition). The job gathers that slice of every
 * task's keys, sorts them by key within the memory budget (spilling sorted runs to disk and
 * merging them when it is exceeded), and writes an edge from the first document of each
 * group of equal keys to every other one (a star, not all pairs).
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { removeOwned } from '../core/owned-dirs.js';
import { ExternalSorter } from './external-sort.js';
import { docCounts, offsets, paths, readKeySlice, type DedupPlan } from './work.js';

export const bucketJobs = (plan: DedupPlan) => plan.kinds.flatMap((_, k) => Array.from({ length: plan.partitions }, (_, p) => `${k}:${p}`));

/** Writes edges in blocks; the file appears under its name only when complete. */
class EdgeWriter {
  private readonly fd: number;
  private readonly buf = new Uint32Array(2 * 65536);
  private n = 0;
  edges = 0;
  constructor(
    private readonly path: string,
  ) {
    this.fd = openSync(`${path}.tmp-${process.pid}`, 'w');
  }
  add(a: number, b: number): void {
    this.buf[this.n * 2] = a;
    this.buf[this.n * 2 + 1] = b;
    this.edges++;
    if (++this.n === 65536) this.flush();
  }
  private flush(): void {
    writeSync(this.fd, new Uint8Array(this.buf.buffer, 0, this.n * 8));
    this.n = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(`${this.path}.tmp-${process.pid}`, this.path);
  }
}

export function runBucketJob(work: string, plan: DedupPlan, job: string, memoryBytes: number): Record<string, unknown> {
  const [kind, part] = job.split(':').map(Number);
  const first = offsets(docCounts(work, plan.tasks));
  const tmp = join(paths.buckets(work), `.sort-${kind}-${part}-${process.pid}`);
  const sorter = new ExternalSorter(3, memoryBytes, tmp);
  const record = new Uint32Array(3);
  let records = 0;
  for (let t = 0; t < plan.tasks; t++) {
    const slice = readKeySlice(paths.keys(work, t), kind, part);
    for (let i = 0; i < slice.length; i += 3) {
      record[0] = slice[i];
      record[1] = slice[i + 1];
      record[2] = first[t] + slice[i + 2];
      sorter.push(record);
      records++;
    }
  }
  const out = new EdgeWriter(paths.edges(work, kind, part));
  let groups = 0;
  let hi = -1;
  let lo = -1;
  let leader = -1;
  try {
    for (const block of sorter.sorted()) {
      for (let i = 0; i < block.length; i += 3) {
        if (block[i] === hi && block[i + 1] === lo) {
          out.add(leader, block[i + 2]);
        } else {
          hi = block[i];
          lo = block[i + 1];
          leader = block[i + 2];
          groups++;
        }
      }
    }
    out.close();
  } finally {
    removeOwned(tmp);
  }
  return { job, records, keys: groups, edges: out.edges, spilled_runs: sorter.spilledRuns };
}
