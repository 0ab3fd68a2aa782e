/**
 * Where a stage run puts things (DESIGN.md, "Output layout of a stage run"):
 *
 *   out/part-TTTTT-PPPP.arrow       kept documents of task T, part P
 *   out/_excluded/part-TTTTT-PPPP.arrow
 *   out/_stats/task-TTTTT.json
 *   out/_done/task-TTTTT            completion marker, written last
 *   out/_running/task-TTTTT         claim of the run running the task (core/claims.ts)
 *   out/_manifest.json
 *
 * Everything but the kept parts starts with `_` or `.`, the prefixes that dataset readers
 * (pyarrow.dataset, polars and DuckDB globs over `part-*`) skip, so pointing one at `out/`
 * reads exactly the kept documents. Outputs of earlier versions hold `excluded/` instead of
 * `_excluded/`: readers still find it (`excludedDirToRead`), and a run into such an output
 * renames it first (`ensureLayout`).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const pad = (n: number, width = 5) => String(n).padStart(width, '0');

export const layout = {
  partBase: (task: number) => `part-${pad(task)}`,
  excludedDir: (out: string) => join(out, '_excluded'),
  /** Where versions before 0.2 put excluded documents. */
  legacyExcludedDir: (out: string) => join(out, 'excluded'),
  statsDir: (out: string) => join(out, '_stats'),
  doneDir: (out: string) => join(out, '_done'),
  runningDir: (out: string) => join(out, '_running'),
  statsFile: (out: string, task: number) => join(out, '_stats', `task-${pad(task)}.json`),
  doneFile: (out: string, task: number) => join(out, '_done', `task-${pad(task)}`),
  claimFile: (out: string, task: number) => join(out, '_running', `task-${pad(task)}`),
  manifest: (out: string) => join(out, '_manifest.json'),
};

const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();
const noticed = new Set<string>();

/** Say once per process that `out` has the old layout. */
function legacyNotice(out: string, what: string): void {
  if (noticed.has(out)) return;
  noticed.add(out);
  console.error(`refinery: ${out}: ${what}`);
}

/**
 * The directory holding the excluded documents of stage output `out`: `_excluded/`, or the
 * `excluded/` of an output written by an earlier version (with a one-line notice); null when
 * `out` has neither.
 */
export function excludedDirToRead(out: string): string | null {
  const dir = layout.excludedDir(out);
  if (isDir(dir)) return dir;
  const legacy = layout.legacyExcludedDir(out);
  if (!isDir(legacy)) return null;
  legacyNotice(out, 'excluded documents are in excluded/ (written by an earlier version; a run into this output renames it _excluded/)');
  return legacy;
}

export function ensureLayout(out: string): void {
  const legacy = layout.legacyExcludedDir(out);
  if (isDir(legacy) && !existsSync(layout.excludedDir(out))) {
    legacyNotice(out, 'renaming excluded/ (written by an earlier version) to _excluded/');
    try {
      renameSync(legacy, layout.excludedDir(out));
    } catch (err) {
      // Another rank of the same run renamed it first.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
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
