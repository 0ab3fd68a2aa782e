/**
 * Turning input arguments (files, directories) into the ordered list of tasks.
 * The order is deterministic (argument order, then sorted relative paths), because task
 * numbers name the output parts and decide which rank runs what.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { UserError } from './errors.js';
import type { ColumnSpec } from './schema.js';
import { openShard } from './shard-reader.js';
import type { InputSpec, TaskInput } from './stage.js';

/**
 * Files under `dir` that `keep` accepts, in sorted order. Symbolic links are followed, to files
 * and to folders; a folder reached again through a link (a loop, or the same folder twice) is
 * read once, and a broken link is reported on stderr, never skipped silently.
 */
function walk(dir: string, keep: (name: string) => boolean, out: string[], seen = new Set<string>([realpathSync(dir)])): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const target = statSync(path);
        [isDir, isFile] = [target.isDirectory(), target.isFile()];
      } catch {
        process.stderr.write(`warning: ${path}: a broken symbolic link, not read\n`);
        continue;
      }
    }
    if (isDir) {
      const real = realpathSync(path);
      if (seen.has(real)) {
        process.stderr.write(`warning: ${path}: a link to a folder already read (${real}), not read again\n`);
        continue;
      }
      seen.add(real);
      walk(path, keep, out, seen);
    } else if (isFile && keep(e.name)) out.push(path);
  }
}

/** An input that names a remote resource (http(s)://..., or a stage-specific scheme such as cdx+https://...). */
export const isRemote = (input: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(input);

/** A short, stable name for a remote input: the last path segment, else the host. */
function remoteName(input: string): string {
  try {
    const url = new URL(input.replace(/^[a-z0-9.-]+\+/i, ''));
    const page = url.searchParams.get('page');
    const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? url.host);
    return page === null ? last : `${last}-page-${page}`;
  } catch {
    return input;
  }
}

export function listTasks(spec: InputSpec, inputs: readonly string[]): TaskInput[] {
  if (inputs.length === 0) throw new UserError('no input given');
  const tasks: TaskInput[] = [];
  const matches =
    spec.kind === 'shards'
      ? (name: string) => name.endsWith('.arrow')
      : (name: string) => spec.extensions.some((ext) => name.endsWith(ext));
  for (const input of inputs) {
    if (isRemote(input)) {
      if (spec.kind !== 'files' || !spec.urls) throw new UserError(`${input}: this stage reads local files only`);
      tasks.push({ index: tasks.length, path: input, rel: remoteName(input) });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch {
      throw new UserError(`${input}: no such file or directory`);
    }
    const files: string[] = [];
    if (!isDir) files.push(input);
    else if (spec.kind === 'shards') {
      // A stage output: its kept parts only (not _excluded/, not _stats/).
      files.push(
        ...readdirSync(input)
          .filter((n) => matches(n) && !n.startsWith('.'))
          .sort()
          .map((n) => join(input, n)),
      );
    } else walk(input, matches, files);
    // A stage output whose documents were all excluded is a valid, empty input.
    const emptyStageOutput = spec.kind === 'shards' && existsSync(join(input, '_manifest.json'));
    if (isDir && files.length === 0 && !emptyStageOutput) {
      const what = spec.kind === 'shards' ? 'Arrow shards (*.arrow)' : `${spec.what} (${spec.extensions.join(', ')})`;
      throw new UserError(`${input}: no ${what} found`);
    }
    for (const path of files) {
      tasks.push({ index: tasks.length, path, rel: isDir ? relative(input, path) : basename(path) });
    }
  }
  return tasks;
}

/** What identifies the inputs of a run, for the rerun check. */
export const inputIdentity = (tasks: readonly TaskInput[]) => tasks.map((t) => (isRemote(t.path) ? t.path : resolve(t.path)));

/**
 * What a task reads, as its done marker records it: the file's path, size and modification
 * time. An upstream stage that runs again rewrites its shards under the same names: their
 * identity changes, so the downstream tasks that read the old ones run again.
 */
export function taskIdentity(task: TaskInput): string {
  if (isRemote(task.path)) return `${JSON.stringify({ path: task.path })}\n`;
  const st = statSync(task.path);
  return `${JSON.stringify({ path: resolve(task.path), size: st.size, mtime_ms: st.mtimeMs })}\n`;
}

/**
 * Whether a done marker was written for the input as it is now. Markers of earlier versions
 * hold only the path: they count as done.
 */
export function doneForSameInput(marker: string, task: TaskInput): boolean {
  return !marker.startsWith('{') || marker === taskIdentity(task);
}

/** The columns of every input shard, to check a column a stage needs before any task runs. */
export async function shardColumns(inputs: readonly string[]): Promise<{ path: string; columns: readonly ColumnSpec[] }[]> {
  const out: { path: string; columns: readonly ColumnSpec[] }[] = [];
  for (const task of listTasks({ kind: 'shards' }, inputs)) {
    const shard = await openShard(task.path);
    out.push({ path: task.path, columns: shard.columns });
    await shard.close();
  }
  return out;
}
