/**
 * Where a stage run puts things (DESIGN.md, "Output layout of a stage run"):
 *
 *   out/part-TTTTT-PPPP.arrow       kept documents of task T, part P
 *   out/excluded/part-TTTTT-PPPP.arrow
 *   out/_stats/task-TTTTT.json
 *   out/_done/task-TTTTT            completion marker, written last
 *   out/_running/task-TTTTT         claim of the run running the task (core/claims.ts)
 *   out/_manifest.json
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const pad = (n: number, width = 5) => String(n).padStart(width, '0');

export const layout = {
  partBase: (task: number) => `part-${pad(task)}`,
  excludedDir: (out: string) => join(out, 'excluded'),
  statsDir: (out: string) => join(out, '_stats'),
  doneDir: (out: string) => join(out, '_done'),
  runningDir: (out: string) => join(out, '_running'),
  statsFile: (out: string, task: number) => join(out, '_stats', `task-${pad(task)}.json`),
  doneFile: (out: string, task: number) => join(out, '_done', `task-${pad(task)}`),
  claimFile: (out: string, task: number) => join(out, '_running', `task-${pad(task)}`),
  manifest: (out: string) => join(out, '_manifest.json'),
};

export function ensureLayout(out: string): void {
  for (const dir of [out, layout.excludedDir(out), layout.statsDir(out), layout.doneDir(out)]) {
    mkdirSync(dir, { recursive: true });
  }
}

/**
 * Remove whatever an unfinished attempt of `task` left behind (temporary files, parts
 * already renamed before a kill, its stats), so that a rerun writes each document once.
 */
export function clearTaskOutputs(out: string, task: number): void {
  const prefix = `${layout.partBase(task)}-`;
  for (const dir of [out, layout.excludedDir(out)]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith(prefix) || name.startsWith(`.${prefix}`)) rmSync(join(dir, name), { force: true });
    }
  }
  rmSync(layout.statsFile(out, task), { force: true });
}

/** Write a file so that readers see either the old or the new content, never a mix. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
