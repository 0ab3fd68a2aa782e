/**
 * What `refinery view` shows: the stage outputs (folders with a _manifest.json), the training
 * runs (metrics.jsonl) and the mixes (_mix.json) found under the folders it was given, in
 * pipeline order. Found once at start; nothing outside these folders is ever served.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { UserError } from '../core/errors.js';
import { readManifest, type Manifest } from '../core/executor.js';
import { layout } from '../core/layout.js';

export interface StageOutput {
  /** How URLs name it: its path under its root (prefixed by the root's number when there are several). */
  slug: string;
  dir: string;
  manifest: Manifest;
  /** Outputs this one read (found through the manifest's inputs), and those that read it. */
  parents: StageOutput[];
  children: StageOutput[];
}

export interface TrainingRun {
  slug: string;
  metrics: string;
}

export interface ViewSite {
  roots: string[];
  outputs: StageOutput[];
  runs: TrainingRun[];
  bySlug: Map<string, StageOutput>;
}

const MAX_DEPTH = 6;

/** Folders of a tree, depth first; stops at stage outputs (their insides are shards) and skips `_`/`.` names. */
function walk(dir: string, depth: number, found: { outputs: string[]; metrics: string[] }): void {
  if (existsSync(layout.manifest(dir))) {
    found.outputs.push(dir);
    return;
  }
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  if (names.includes('metrics.jsonl')) found.metrics.push(join(dir, 'metrics.jsonl'));
  // A plan's work folder (dedup's signatures and buckets, a mix's counts) holds intermediate
  // outputs, not the run's: shown only when asked for by name.
  if (depth >= MAX_DEPTH || (depth > 0 && names.includes('_phases'))) return;
  for (const name of names) {
    if (name.startsWith('_') || name.startsWith('.') || name === 'node_modules') continue;
    const path = join(dir, name);
    try {
      if (statSync(path).isDirectory()) walk(path, depth + 1, found);
    } catch {
      // A folder that vanished or cannot be read is not shown.
    }
  }
}

/** Parents before children; siblings in the order their manifests were last written. */
function pipelineOrder(outputs: StageOutput[]): StageOutput[] {
  const written = new Map(outputs.map((o) => [o, statSync(layout.manifest(o.dir)).mtimeMs]));
  const byTime = [...outputs].sort((a, b) => (written.get(a) ?? 0) - (written.get(b) ?? 0) || a.slug.localeCompare(b.slug));
  const done = new Set<StageOutput>();
  const order: StageOutput[] = [];
  const visit = (o: StageOutput) => {
    if (done.has(o)) return;
    done.add(o);
    for (const p of o.parents) visit(p);
    order.push(o);
  };
  for (const o of byTime) visit(o);
  return order;
}

export function findSite(folders: readonly string[]): ViewSite {
  const roots = folders.map((f) => {
    if (!existsSync(f) || !statSync(f).isDirectory()) throw new UserError(`${f}: no such directory`);
    return realpathSync(f);
  });
  const found = { outputs: [] as string[], metrics: [] as string[] };
  for (const root of roots) walk(root, 0, found);
  const slugOf = (path: string) => {
    const r = roots.findIndex((root) => path === root || path.startsWith(root + sep));
    const rel = relative(roots[r], path).split(sep).join('/') || basename(path);
    return roots.length > 1 ? `${r}/${rel}` : rel;
  };
  const outputs: StageOutput[] = [...new Set(found.outputs)].map((dir) => {
    const manifest = readManifest(dir) as Manifest;
    return { slug: slugOf(dir), dir, manifest, parents: [], children: [] };
  });
  const byDir = new Map(outputs.map((o) => [o.dir, o]));
  for (const o of outputs) {
    const inputDirs = new Set((o.manifest.inputs ?? []).map((input) => (input.endsWith('.arrow') ? dirname(input) : input)));
    for (const input of inputDirs) {
      const parent = byDir.get(existsSync(input) ? realpathSync(input) : input);
      if (parent && parent !== o) {
        o.parents.push(parent);
        parent.children.push(o);
      }
    }
  }
  const ordered = pipelineOrder(outputs);
  const runs = found.metrics.map((metrics) => ({ slug: slugOf(dirname(metrics)), metrics }));
  return { roots, outputs: ordered, runs, bySlug: new Map(ordered.map((o) => [o.slug, o])) };
}

/** The file `rel` names under root `root`, or null when it lies outside it (after links are followed) or does not exist. */
export function fileInside(root: string, rel: string): string | null {
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) return null;
  const path = join(root, ...parts);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null;
  return statSync(real).isFile() ? real : null;
}
