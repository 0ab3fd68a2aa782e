/**
 * Independent jobs that are not "one shard in, one shard out" (the buckets of a dedup run,
 * say), with the executor's guarantees: each job runs once (a `_done/<job>` marker, written
 * last), `--rank/--world-size` (or the scheduler's variables) picks the share `i % W == R`,
 * and `--workers N` runs N local processes, each taking one rank of N.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from './errors.js';
import { resolvePlacement } from './executor.js';
import { writeFileAtomic } from './layout.js';
import { Progress, type ProgressMode } from './progress.js';

export interface JobsRun {
  name: string;
  jobs: readonly string[];
  /** Where `_done/` and `_jobs/<job>.json` (each job's result) go. */
  dir: string;
  workers: number;
  rank?: number;
  world_size?: number;
  progress?: ProgressMode;
  /**
   * CLI arguments of a command that runs these same jobs (without rank options): with them,
   * `workers` > 1 runs that command in that many processes, one rank each.
   */
  childArgs?: string[];
  run(job: string): Promise<Record<string, unknown>>;
  log?(line: string): void;
}

export interface JobsResult {
  ran: number;
  skipped: number;
  failed: { job: string; error: string }[];
}

const safe = (job: string) => job.replace(/[^\w.-]/g, '_');
export const jobDone = (dir: string, job: string) => join(dir, '_done', safe(job));

/** Results of the finished jobs, by job. */
export function jobResults(dir: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const folder = join(dir, '_jobs');
  if (!existsSync(folder)) return out;
  for (const name of readdirSync(folder).filter((n) => n.endsWith('.json'))) {
    out.set(name.slice(0, -5), JSON.parse(readFileSync(join(folder, name), 'utf8')) as Record<string, unknown>);
  }
  return out;
}

export async function runJobs(r: JobsRun): Promise<JobsResult> {
  const log = r.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(join(r.dir, '_done'), { recursive: true });
  const placement = resolvePlacement({ rank: r.rank, world_size: r.world_size });
  // Local parallelism: one child process per rank, each running this same command.
  if (r.childArgs && r.workers > 1 && placement.worldSize === 1 && r.jobs.length > 1 && process.argv[1]) {
    const n = Math.min(r.workers, r.jobs.length);
    log(`${r.name}: ${r.jobs.length} jobs on ${n} processes`);
    const codes = await Promise.all(
      Array.from({ length: n }, (_, rank) =>
        new Promise<number>((resolve) => {
          const args = [process.argv[1], ...(r.childArgs as string[]), '--rank', String(rank), '--world-size', String(n), '--workers', '1'];
          spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] }).on('exit', (code) => resolve(code ?? 1));
        }),
      ),
    );
    const failed = codes.filter((c) => c !== 0).length;
    return { ran: r.jobs.length, skipped: 0, failed: failed ? [{ job: `${failed} process(es)`, error: 'see above' }] : [] };
  }
  const mine = r.jobs.filter((_, i) => i % placement.worldSize === placement.rank);
  const pending = mine.filter((job) => !existsSync(jobDone(r.dir, job)));
  const where = placement.worldSize > 1 ? ` (rank ${placement.rank}/${placement.worldSize})` : '';
  log(`${r.name}: ${r.jobs.length} jobs${where}; ${pending.length} to run${mine.length > pending.length ? `, ${mine.length - pending.length} already done` : ''}`);
  const progress = new Progress(r.name, pending.length, r.progress ?? 'auto');
  const failed: { job: string; error: string }[] = [];
  try {
    for (const job of pending) {
      try {
        const result = await r.run(job);
        writeFileAtomic(join(r.dir, '_jobs', `${safe(job)}.json`), JSON.stringify(result));
        writeFileAtomic(jobDone(r.dir, job), `${job}\n`);
        progress.taskDone();
      } catch (err) {
        failed.push({ job, error: errorMessage(err) });
        progress.taskFailed();
        log(`${r.name}: job ${job} failed: ${errorMessage(err)}`);
      }
    }
  } finally {
    progress.finish();
  }
  return { ran: pending.length - failed.length, skipped: mine.length - pending.length, failed };
}
