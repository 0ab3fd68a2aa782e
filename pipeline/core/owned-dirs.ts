/**
 * The directories refinery may delete, and the one function that deletes them.
 *
 * A directory is refinery's when it carries a `.refinery-owned` marker, written by `claimDir`
 * when refinery creates the directory or starts using an empty one (or one an earlier version
 * made). `removeOwned` empties such a directory, or removes a path inside one, and refuses
 * everything else: a directory without the marker, one that is or holds an input, the
 * filesystem root, the home directory, the working directory and its ancestors. Paths are
 * compared with symlinks resolved. README, "What refinery will and won't delete", states the
 * same rules for users.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from './errors.js';
import { isRemote, listTasks } from './inputs.js';
import { writeFileAtomic } from './layout.js';

export const MARKER = '.refinery-owned';
export type DirKind = 'output' | 'work';

/** The path with symlinks resolved as far as it exists (an output often does not exist yet). */
export function realPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPath(parent), basename(abs));
  }
}

/** Whether real path `path` is `dir` or lies inside it. */
const within = (path: string, dir: string): boolean => {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

const readJson = (file: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
};

/** The kind recorded by the marker in `dir`, or null when it has none. */
export function markerKind(dir: string): DirKind | null {
  const kind = readJson(join(dir, MARKER))?.kind;
  return kind === 'output' || kind === 'work' ? kind : null;
}

/** How to recognise a non-empty, unmarked directory that an earlier refinery version made. */
export type Legacy = (dir: string, entries: string[]) => boolean;

/** An output of an earlier version: its `_manifest.json` names refinery's version and the stage. */
export const legacyOutput: Legacy = (dir) => {
  const m = readJson(join(dir, '_manifest.json'));
  return typeof m?.refinery === 'string' && typeof m.stage === 'string';
};

/**
 * Start using `dir` as an output or work directory: create it, or take it when it is empty
 * or was made by an earlier version (`legacy`), and mark it as refinery's. Any other
 * non-empty directory is refused before anything is written into it.
 */
export function claimDir(dir: string, kind: DirKind, by: string, legacy: Legacy): void {
  let entries: string[] = [];
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: is a file, not a directory`);
    // Another rank may be writing its marker right now (a temporary `.refinery-owned.tmp-PID`).
    entries = readdirSync(dir).filter((n) => !n.startsWith(MARKER));
  }
  const marked = markerKind(dir);
  if (marked && marked !== kind) throw new UserError(`${dir}: is a refinery ${marked} directory, not ${kind === 'work' ? 'a work' : 'an output'} directory; choose another`);
  if (!marked && entries.length > 0 && !legacy(dir, entries)) {
    const made = kind === 'output' ? `${MARKER} or _manifest.json` : MARKER;
    throw new UserError(`${dir}: exists and is not a refinery ${kind} directory (no ${made}); refusing to write into it`);
  }
  writingInto(dir, () => {
    if (marked) return accessSync(dir, constants.W_OK);
    makeDirs(dir);
    writeFileAtomic(join(dir, MARKER), `${JSON.stringify({ kind, created_at: new Date().toISOString(), by })}\n`);
  });
}

/** Why the filesystem refused a write, in words; null for errors that are not a refusal. */
const REFUSALS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent is a file, not a directory',
  ENOENT: 'its parent cannot hold new directories',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/** Run `write`, which creates or writes in `dir`; a refusal of the filesystem becomes one clear line (exit 2). */
export function writingInto<T>(dir: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ? REFUSALS[code] : undefined;
    if (why) throw new UserError(`${dir}: cannot write here (${why})`);
    throw err;
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir reports a missing parent instead of
 * the refusal, and loops forever where mkdir answers ENOENT (under /proc).
 */
function makeDirs(dir: string): void {
  const abs = resolve(dir);
  if (existsSync(abs)) return;
  const parent = dirname(abs);
  if (parent !== abs) makeDirs(parent);
  try {
    mkdirSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Why `dir` (a directory the run writes) may not be written: it is, or holds, one of `inputs`. */
export function inputOverlap(dir: string, inputs: readonly string[]): string | null {
  const real = realPath(dir);
  for (const input of inputs.filter((i) => !isRemote(i))) {
    const r = realPath(input);
    if (within(r, real)) return `${r === real ? 'is' : 'holds'} the input ${input}`;
  }
  return null;
}

/** Refuse, before anything is written or deleted, to write where the run reads. */
export function refuseInputOverlap(dirs: readonly string[], inputs: readonly string[]): void {
  for (const dir of dirs) {
    const why = inputOverlap(dir, inputs);
    if (why) throw new UserError(`${dir}: ${why}; write the output to another directory`);
  }
}

/** The marked directory that `real` is or lies in, or null. */
function owner(real: string): string | null {
  for (let d = real; ; d = dirname(d)) {
    if (markerKind(d)) return d;
    if (dirname(d) === d) return null;
  }
}

/** Why `path` may not be deleted, or null when it may (the rules of this file's header). */
export function deleteRefusal(path: string, inputs: readonly string[]): string | null {
  const real = realPath(path);
  if (dirname(real) === real) return 'it is the filesystem root';
  if (within(realPath(homedir()), real)) return 'it is or holds the home directory';
  if (within(realPath(process.cwd()), real)) return 'it is or holds the working directory';
  const overlap = inputOverlap(real, inputs);
  if (overlap) return `it ${overlap}`;
  if (!owner(real)) return `refinery did not make it (no ${MARKER} in it or above it)`;
  return null;
}

/**
 * The only recursive delete: empties a marked directory (the directory and its marker stay,
 * so a symlinked output keeps working and stays refinery's) or removes a path inside one.
 * `inputs` are the paths the run reads. Refuses with a UserError naming the path and why.
 */
export function removeOwned(path: string, inputs: readonly string[] = []): void {
  if (!existsSync(path)) return;
  const why = deleteRefusal(path, inputs);
  if (why) throw new UserError(`${path}: refusing to delete: ${why}`);
  const real = realPath(path);
  if (!markerKind(real)) rmSync(real, { recursive: true, force: true });
  else for (const name of readdirSync(real)) if (name !== MARKER) rmSync(join(real, name), { recursive: true, force: true });
}
